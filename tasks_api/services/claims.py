"""Who runs a task right now: one claim per run, held only by a live process, so no run goes twice.

A message may be delivered more than once: Redis redelivers what a dead worker never acknowledged,
the reconciler republishes launches the broker lost, a killed fan-out parent publishes again. The
worker claims a run before its body starts. A claim is held by a live process:
- on PostgreSQL, a session advisory lock on the run's id (the server drops it the moment the
  holder's connection dies, so a killed worker or host frees its runs at once);
- elsewhere (the embedded SQLite default, one host by nature), the claiming process's pid.
A claim still written on the launch record when a new attempt claims the run is a delivery lost
to a dying worker; after `max_lost` of them the run gives up instead of killing workers forever.
"""

import enum
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tasks_api.models import TaskLaunch
from tasks_api.runs.transitions import run_claimed, this_process
from tasks_api.services import claims_postgres
from tasks_api.states import FINISHED


class Claim(enum.Enum):
    CLAIMED = "claimed"
    REVOKED = "revoked"  # claimed, but revoked before it started: stop it now (and release)
    FINISHED = "finished"  # an earlier delivery finished it: acknowledge and skip
    RUNNING_ELSEWHERE = "running elsewhere"  # a live process runs it now: skip
    EXHAUSTED = "exhausted"  # too many deliveries lost to dying workers: fail it


def run_claim(*, task_id: str, max_lost: int, worker: str) -> Claim:
    """Claim the run for this process (of `worker`, the node), unless it finished, runs
    elsewhere, or was lost too often; a claim opens the run's next attempt.

    CLAIMED and REVOKED hold the claim: run_release frees it."""
    if connection.vendor == "postgresql":
        return _claim_on_postgres(task_id, max_lost, worker)
    return _claim_in_orm(task_id, max_lost, worker)


def run_release(*, task_id: str) -> None:
    """The attempt is over (finished, failed, retrying or stopped): free the claim."""
    if connection.vendor == "postgresql" and connection.connection is not None:
        claims_postgres.run_release(task_id=task_id, holder=this_process())
        return
    # SQLite; or a lost connection, whose lock the server dropped with it.
    TaskLaunch.objects.filter(task_id=task_id, claimed_by=this_process()).update(claimed_by="")


def run_is_held(*, launch: TaskLaunch) -> bool:
    """Whether a live process holds the run's claim (the reconciler's question)."""
    if connection.vendor == "postgresql":
        claimed_at = launch.claimed_at if launch.claimed_by else None
        return claims_postgres.run_lock_is_held(task_id=launch.task_id, claimed_at=claimed_at)
    return _pid_holds(launch)


def run_is_live(*, task_id: str) -> bool:
    """Whether the run is unfinished and a live process runs it now: False once it ended, is
    waiting for a retry, or its worker died (what a lock taken for the run may go by)."""
    launch = TaskLaunch.objects.filter(task_id=task_id).only("status", "claimed_by", "claimed_at").first()
    if launch is not None and launch.status in FINISHED:
        return False
    if launch is not None:
        return run_is_held(launch=launch)
    # Published by hand, with no row: claimed too (on PostgreSQL, its lock is all there is).
    return connection.vendor == "postgresql" and claims_postgres.run_lock_is_held(task_id=task_id)


def _claim_on_postgres(task_id: str, max_lost: int, worker: str) -> Claim:
    finished, locked = claims_postgres.run_lock_unless_finished(task_id=task_id)
    if finished:
        return Claim.FINISHED
    if not locked:
        return Claim.RUNNING_ELSEWHERE
    claim = _recorded(task_id, max_lost, worker)
    if claim is Claim.EXHAUSTED:
        claims_postgres.run_unlock(task_id=task_id)
    return claim


@transaction.atomic
def _claim_in_orm(task_id: str, max_lost: int, worker: str) -> Claim:
    """SQLite: the pid on the launch record is the lock; the write lock makes this atomic."""
    launch = TaskLaunch.objects.select_for_update().filter(task_id=task_id).first()
    if launch is not None and launch.status in FINISHED:
        return Claim.FINISHED
    if launch is not None and _pid_holds(launch):
        return Claim.RUNNING_ELSEWHERE
    return _recorded(task_id, max_lost, worker)


def _recorded(task_id: str, max_lost: int, worker: str) -> Claim:
    recorded = run_claimed(
        task_id=task_id, max_lost=max_lost, holder=this_process(), worker=worker, pid=os.getpid()
    )
    if recorded is None:  # published by hand with no launch record: nothing to count
        return Claim.CLAIMED
    claimed, revoked = recorded
    if not claimed:
        return Claim.EXHAUSTED
    return Claim.REVOKED if revoked else Claim.CLAIMED


def _pid_holds(launch: TaskLaunch) -> bool:
    """On one host (SQLite): the claim's process exists, and claimed the run within the hard
    time limit (past it the run was killed; the pid may since run something else)."""
    if not launch.claimed_by or launch.claimed_at is None:
        return False
    limit = timedelta(seconds=(settings.CELERY_TASK_TIME_LIMIT or 3600) + 60)
    return launch.claimed_at > timezone.now() - limit and _alive(launch.claimed_by)


def _alive(holder: str) -> bool:
    """Whether the holder's process still exists on this host."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
