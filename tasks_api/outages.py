"""Waiting through a database outage: which errors are one, and the backoff until a deadline
(TASKS_API_DATABASE_WAIT_SECONDS) by which a control-plane write stops waiting, never a count."""

import logging
import random
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 10.0
# PostgreSQL's SQLSTATE classes of a server that is away or busy: connection exceptions (08),
# a transaction to roll back and try again (40), insufficient resources (53), shutting down or
# starting up (57P01-57P03). A connect that failed has no SQLSTATE at all.
TRANSIENT_SQLSTATE_PREFIXES = ("08", "40", "53", "57P01", "57P02", "57P03")
# SQLite's: another process holds the file's write lock.
TRANSIENT_SQLITE_WORDS = ("locked", "busy")


def is_transient_database_error(exc: BaseException) -> bool:
    """The database is unreachable, restarting or busy: worth waiting for. Not a bad query, a
    missing table or a statement that timed out, which trying again would only repeat."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if type(cause).__module__ == "sqlite3":
        return any(word in str(cause).lower() for word in TRANSIENT_SQLITE_WORDS)
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(TRANSIENT_SQLSTATE_PREFIXES)


def outage_deadline() -> float:
    """The monotonic time a write that meets an outage now stops waiting for the database."""
    return time.monotonic() + settings.TASKS_API_DATABASE_WAIT_SECONDS


def outage_pause(*, attempt: int, deadline: float) -> bool:
    """Sleep before the `attempt`-th try again (0.5 s doubling to 10 s, jittered so that workers
    do not return together), after dropping the broken connection; False once past `deadline`,
    inside a transaction (which cannot go on on a new connection), or when the task's soft time
    limit strikes meanwhile (the write then gives up as at its deadline, and is not a failure)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0 or connection.in_atomic_block:
        return False
    connection.close()  # the next try opens a new connection
    ceiling = min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** min(attempt, 10))
    try:
        time.sleep(min(remaining, random.uniform(ceiling / 2, ceiling)))
    except SoftTimeLimitExceeded:
        logger.warning("The task's soft time limit struck while it waited for the database")
        return False
    return True
