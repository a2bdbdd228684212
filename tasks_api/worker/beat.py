"""Beat's scheduler with a lease: of several beats started by mistake, only one sends schedules."""

import logging
import os
import secrets
import socket
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, InterfaceError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

from tasks_api.selectors.leases import BEAT_LEASE, lease_holder_get
from tasks_api.services.leases import lease_acquire, lease_release

logger = logging.getLogger(__name__)
LEASE_NAME = BEAT_LEASE
DB_ERRORS = (DatabaseError, InterfaceError)


def beat_holder_id() -> str:
    """host:pid:token; the token tells apart a restarted beat that got the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def beat_heartbeat(*, path: Path) -> None:
    """Touch the heartbeat file; a failure is logged, never raised (a tick must not die of it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as exc:
        logger.warning("Beat cannot touch its heartbeat file %s: %r", path, exc)


def beat_lease_check(*, lease_seconds: int, max_interval: float) -> None:
    """The holder renews once per tick and sleeps up to `max_interval` between ticks: a lease
    that short would expire under a live holder (twice that leaves room for a slow tick)."""
    if lease_seconds < 2 * max_interval:
        raise ImproperlyConfigured(
            f"BEAT_LEASE_SECONDS={lease_seconds} must be at least twice beat's max interval "
            f"({max_interval} s): the holder renews the lease once per tick."
        )


class LeasedDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's DatabaseScheduler that sends nothing unless it holds the beat lease.

    Every tick first takes or renews the lease; without it the tick returns before the heap is
    touched, so nothing is sent and no last_run_at or total_run_count moves. A standby polls
    every max_interval and so takes over within that of the holder's lease expiring.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lease_seconds: int = settings.BEAT_LEASE_SECONDS
        beat_lease_check(lease_seconds=self.lease_seconds, max_interval=self.max_interval)
        self.holder = beat_holder_id()
        self.holding: bool | None = None  # unknown until the first tick
        # Save last_run_at after every send, not every 3 minutes: a beat taking over reads it,
        # and a stale one would run a daily crontab a second time.
        self.sync_every_tasks = 1

    def tick(self, *args: Any, **kwargs: Any) -> float:
        beat_heartbeat(path=settings.BEAT_HEARTBEAT_FILE)
        if not self._lease_renewed():
            return self.max_interval
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        try:
            super().close()  # the final sync first: the next holder reads what it saved
        finally:
            self._lease_give_up()

    def _lease_renewed(self) -> bool:
        held = self._lease_try()
        if held != self.holding:
            self._lease_changed(held)
        self.holding = held
        return held

    def _lease_try(self) -> bool:
        try:
            # As DatabaseScheduler does each tick: drop a connection the database has closed.
            close_old_connections()
            return lease_acquire(name=LEASE_NAME, holder=self.holder, ttl=self.lease_seconds)
        except DB_ERRORS as exc:
            # Without the database nobody can tell who holds the lease: send nothing.
            logger.warning("Beat %s cannot reach the lease in the database: %r", self.holder, exc)
            return False

    def _lease_changed(self, held: bool) -> None:
        if held:
            took_over = self.holding is False
            logger.info(
                "Beat %s %s the lease; sending schedules.",
                self.holder,
                "took over" if took_over else "holds",
            )
            self._schedule_reload()
        elif self.holding:
            logger.warning("Beat %s lost the lease; standing by, sending nothing.", self.holder)
        else:
            logger.info(
                "Beat %s is standing by, sending nothing, while %s holds the lease; it takes over "
                "once that lease goes %s s unrenewed.",
                self.holder,
                self._lease_holder() or "another beat",
                self.lease_seconds,
            )

    def _lease_holder(self) -> str | None:
        try:
            return lease_holder_get(name=LEASE_NAME)
        except DB_ERRORS:
            return None

    def _schedule_reload(self) -> None:
        # The previous holder moved last_run_at since this beat read the schedule: read it again,
        # and have Scheduler.tick rebuild its heap from the fresh entries.
        self._schedule = self.all_as_schedule()
        self._heap = None

    def _lease_give_up(self) -> None:
        if not self.holding:
            return
        self.holding = False
        try:
            lease_release(name=LEASE_NAME, holder=self.holder)
        except DB_ERRORS as exc:
            logger.warning("Beat %s could not release the lease; it expires by itself: %r", self.holder, exc)
            return
        logger.info("Beat %s released the lease.", self.holder)
