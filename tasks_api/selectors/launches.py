"""Reads of runs' stored state that the hot paths ask: finished, revoked, a family's counts."""

from functools import cache

from django.db import connection
from django.db.models import Count

from tasks_api.models import TaskLaunch
from tasks_api.sql import fetch_one
from tasks_api.states import FINISHED, RUNNING


def run_has_finished(*, task_id: str) -> bool:
    """Whether the run's stored state is a finished one. Asked by every claim: written out, not
    compiled by the ORM each time."""
    return fetch_one(run_finished_sql(), [task_id]) is not None


@cache
def run_finished_sql() -> str:
    """The statement behind run_has_finished (one %s: the task id), for statements that embed it."""
    table = connection.ops.quote_name(TaskLaunch._meta.db_table)
    finished = ", ".join(f"'{state}'" for state in sorted(FINISHED))
    return f"SELECT 1 FROM {table} WHERE task_id = %s AND status IN ({finished})"  # noqa: S608 (constants; the id is a parameter)


def task_launch_is_revoked(*, task_id: str) -> bool:
    return TaskLaunch.objects.filter(task_id=task_id, revoke_requested_at__isnull=False).exists()


def task_children_counts(*, parent_task_id: str) -> dict[str, int]:
    """How a fan-out parent's children are doing: pending, running (started or waiting for a
    retry), succeeded, failed, revoked, and their total. One query, grouped by stored state."""
    by_status = dict(
        TaskLaunch.objects.filter(parent_id=parent_task_id)
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
    )
    counts = {
        "pending": by_status.get("PENDING", 0),
        "running": sum(by_status.get(status, 0) for status in RUNNING),
        "succeeded": by_status.get("SUCCESS", 0),
        "failed": by_status.get("FAILURE", 0),
        "revoked": by_status.get("REVOKED", 0),
    }
    return {"total": sum(by_status.values()), **counts}
