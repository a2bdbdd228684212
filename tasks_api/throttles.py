"""Per-user launch rates: launching is throttled; reading statuses (pollers poll a lot) never is."""

import logging

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class LaunchRateThrottle(UserRateThrottle):
    """settings.TASKS_API_LAUNCH_RATE launches per user ("60/min"), counted in the cache that
    settings.TASKS_API_THROTTLE_CACHE names: a cache shared by the web processes (Redis) makes
    the rate hold across them, a per-process one (LocMemCache) per process.

    Both are read per request, not once at import as DRF's DEFAULT_THROTTLE_RATES are.
    """

    scope = "launch"

    def __init__(self) -> None:
        self.cache = caches[settings.TASKS_API_THROTTLE_CACHE]
        super().__init__()

    def get_rate(self) -> str:
        return settings.TASKS_API_LAUNCH_RATE

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache (Redis) is unreachable: a lost count must not cost a launch
            logger.warning("Launch rate not checked: the throttle cache is unreachable", exc_info=True)
            return True
