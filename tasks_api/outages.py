"""Waiting through a database outage: a control-plane write tries again, with backoff, until a
deadline (TASKS_API_DATABASE_WAIT_SECONDS), never for a count of attempts."""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)
T = TypeVar("T")
# The database is unreachable or the connection broke: worth reconnecting and trying again.
TRANSIENT_DATABASE_ERRORS = (InterfaceError, OperationalError)
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 10.0


def is_transient_database_error(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_DATABASE_ERRORS)


def outage_deadline() -> float:
    """The monotonic time a write that meets an outage now stops waiting for the database."""
    return time.monotonic() + settings.TASKS_API_DATABASE_WAIT_SECONDS


def outage_pause(*, attempt: int, deadline: float) -> bool:
    """Sleep before the `attempt`-th try again (0.5 s doubling to 10 s, jittered so that workers
    do not return together), after dropping the broken connection; False once past `deadline`."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    connection.close()  # the next try opens a new connection
    ceiling = min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** min(attempt, 10))
    time.sleep(min(remaining, random.uniform(ceiling / 2, ceiling)))
    return True


def through_outages(write: Callable[[], T], *, what: str) -> T:
    """`write()`, tried again through a database outage until the deadline; then its error."""
    deadline = outage_deadline()
    attempt = 0
    while True:
        try:
            return write()
        except TRANSIENT_DATABASE_ERRORS as exc:
            logger.warning("Database unavailable while %s (%s); waiting for it", what, exc)
            if not outage_pause(attempt=attempt, deadline=deadline):
                raise
            attempt += 1
