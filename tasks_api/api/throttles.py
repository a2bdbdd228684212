"""Per-user launch rates: launching is throttled; reading statuses (pollers poll a lot) never is."""

import logging
import math
from functools import cache

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import UserRateThrottle

from tasks_api.redis_clients import ServerSkipped, cache_guard, redis_client

logger = logging.getLogger(__name__)
# Redis: read both periods' counts and count this launch if it is let through, in one round trip.
COUNT_IN_REDIS = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[1]) + current >= tonumber(ARGV[2]) then
    return {0, current, previous}
end
redis.call('SET', KEYS[1], current + 1, 'EX', ARGV[3])
return {1, current + 1, previous}
"""


class LaunchRateThrottle(UserRateThrottle):
    """settings.TASKS_API_LAUNCH_RATE launches per user ("60/min"), counted in the cache that
    settings.TASKS_API_THROTTLE_CACHE names: a cache shared by the web processes (Redis) makes
    the rate hold across them, a per-process one (LocMemCache) per process.

    Counted as a sliding window: this period's launches plus the last period's, weighted by how
    much of it still lies inside the window (an estimate that assumes the last period's launches
    were spread evenly over it). DRF's own throttle keeps every launch's time and
    reads and rewrites the whole list per launch, which grows with the rate; this costs three
    small cache calls whatever the rate. Both settings are read per request.
    """

    scope = "launch"
    # Set by DRF from the rate (parse_rate); its stubs leave them undeclared.
    num_requests: int
    duration: int

    def __init__(self) -> None:
        self.cache = caches[settings.TASKS_API_THROTTLE_CACHE]
        super().__init__()

    def get_rate(self) -> str:
        return settings.TASKS_API_LAUNCH_RATE

    def allow_request(self, request, view) -> bool:
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        try:
            with cache_guard(settings.TASKS_API_THROTTLE_CACHE):
                return self._count_in(self.key)
        except ServerSkipped:  # it failed moments ago, and was logged then
            return True
        except Exception:  # the cache (Redis) is unreachable: a lost count must not cost a launch
            logger.warning("Launch rate not checked: the throttle cache is unreachable", exc_info=True)
            return True

    def _count_in(self, key: str) -> bool:
        periods = self.timer() / self.duration
        period = math.floor(periods)
        self.elapsed = periods - period  # of this period, from 0 to 1
        current, previous = f"{key}:{period}", f"{key}:{period - 1}"
        if isinstance(self.cache, RedisCache):
            return self._count_in_redis(current, previous)
        counts = self.cache.get_many([current, previous])
        self.current, self.previous = counts.get(current, 0), counts.get(previous, 0)
        if self._estimate(self.elapsed) >= self.num_requests:
            return False
        if current not in counts and self.cache.add(current, 1, timeout=2 * self.duration + 1):
            return True
        self.cache.incr(current)
        return True

    def _count_in_redis(self, current: str, previous: str) -> bool:
        # Django's cache client makes a Redis client per call (0.2 ms of CPU each); one script
        # on one client per process does the whole count. Same keys and values as the cache's.
        script = _redis_script(settings.TASKS_API_THROTTLE_CACHE)
        keys = [self.cache.make_and_validate_key(key) for key in (current, previous)]
        allowed, self.current, self.previous = script(
            keys, [1 - self.elapsed, self.num_requests, 2 * self.duration + 1]
        )
        return bool(allowed)

    def _estimate(self, elapsed: float) -> float:
        return self.previous * (1 - elapsed) + self.current

    def wait(self) -> float:
        """Seconds until a launch would be let through again, if nobody launches meanwhile."""
        limit = self.num_requests
        if self.current < limit and self.previous:
            # This period: the last period's weight fades until the estimate drops under the limit.
            return (1 - (limit - self.current) / self.previous - self.elapsed) * self.duration
        # Next period: this period's launches become the fading ones.
        fade = max(0.0, 1 - limit / self.current) if self.current else 0.0
        return min(self.duration, (1 - self.elapsed + fade) * self.duration)


@cache
def _redis_script(alias: str):
    """The counting script, on a Redis client of the cache `alias`'s server (one per process)."""
    return redis_client(str(settings.CACHES[alias]["LOCATION"])).register_script(COUNT_IN_REDIS)
