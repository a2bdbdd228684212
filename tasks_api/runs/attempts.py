"""A run's attempts: one row per delivery to a worker, opened when the worker claims the run and
ended with the outcome of that delivery. Only tasks_api.runs.transitions calls these."""

import json
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone

from tasks_api.models import RunAttempt, TaskLaunch
from tasks_api.runs.errors import exception_message, exception_type

Outcome = RunAttempt.Outcome
# What each state a worker stores makes of the attempt that stored it.
OUTCOME_OF_STATE = {
    "SUCCESS": Outcome.SUCCEEDED,
    "FAILURE": Outcome.FAILED,
    "RETRY": Outcome.RETRY,
    "REVOKED": Outcome.REVOKED,
}
WORKER_DIED = "The worker running this attempt died"


def attempt_end(*, task_id: str, state: str, meta: Any, retry_at: datetime | None = None) -> None:
    """End the run's open attempt with what the worker stored (`state`, and `meta`'s error)."""
    failed = state in ("FAILURE", "RETRY")
    RunAttempt.objects.filter(run_id=task_id, ended_at__isnull=True).update(
        ended_at=timezone.now(),
        outcome=OUTCOME_OF_STATE[state],
        error_type=exception_type(meta)[:255] if failed else "",
        error_message=(exception_message(meta) or "") if failed else "",
        retry_at=retry_at if state == "RETRY" else None,
        waiting="",
    )


def attempt_waiting(*, task_id: str, waiting: str) -> None:
    """What the run's open attempt waits for now ("" once it goes on)."""
    RunAttempt.objects.filter(run_id=task_id, ended_at__isnull=True).update(waiting=waiting[:255])


def attempt_lost(*, task_id: str, message: str) -> None:
    """The run's open attempt died with its worker."""
    RunAttempt.objects.filter(run_id=task_id, ended_at__isnull=True).update(
        ended_at=timezone.now(),
        outcome=Outcome.LOST,
        error_type="WorkerLost",
        error_message=message,
        waiting="",
    )


def attempt_skipped(*, task_id: str, worker: str, pid: int, reason: str) -> None:
    """A delivery the worker acknowledged without running: the run finished, or runs elsewhere."""
    if TaskLaunch.objects.filter(task_id=task_id).exists():
        now = timezone.now()
        RunAttempt.objects.create(
            run_id=task_id, worker=worker[:255], pid=pid, started_at=now, ended_at=now,
            outcome=Outcome.SKIPPED, error_message=reason,
        )  # fmt: skip


def attempt_begin(*, task_id: str, number: int, worker: str, pid: int) -> None:
    """A new delivery starts (SQLite; PostgreSQL's claim inserts it in its own statement)."""
    RunAttempt.objects.create(
        run_id=task_id, number=number, worker=worker[:255], pid=pid, started_at=timezone.now()
    )


def retry_time(when: Any) -> datetime | None:
    """When a retry is due, from Celery's Retry.when: an ETA, or a countdown in seconds."""
    if isinstance(when, datetime):
        return when
    if isinstance(when, int | float):
        return timezone.now() + timedelta(seconds=when)
    return None


def worker_lost_result(message: str) -> str:
    """The result backend's JSON for a run its worker's death ended (as a stored exception)."""
    return json.dumps({"exc_type": "WorkerLost", "exc_message": [message], "exc_module": "builtins"})


@cache
def attempt_insert_sql(claimed: str) -> str:
    """A CTE tail for PostgreSQL's claim: end the open attempt as lost and, when the delivery
    was claimed, open the new one, from the `claimed` CTE's (task_id, deliveries, claimed) row."""
    table = connection.ops.quote_name(RunAttempt._meta.db_table)
    return (
        f"lost AS (UPDATE {table} SET ended_at = now(), outcome = '{Outcome.LOST}', "  # noqa: S608 (constants; values are parameters)
        f"error_type = 'WorkerLost', error_message = '{WORKER_DIED}', waiting = '' "
        "WHERE run_id = %(task_id)s AND ended_at IS NULL), "
        f"begun AS (INSERT INTO {table} (run_id, number, worker, pid, started_at, outcome, "
        "error_type, error_message, waiting) "
        f"SELECT task_id, deliveries, %(worker)s, %(pid)s, now(), '{Outcome.RUNNING}', '', '', '' "
        f"FROM {claimed} WHERE claimed)"
    )
