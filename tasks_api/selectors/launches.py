"""Reads over launch records and their results."""

from functools import cache

from django.db import connection
from django.db.models import Count, Q
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.sql import fetch_one
from tasks_api.states import FINISHED, RUNNING, UNSUCCESSFUL


def run_has_finished(*, task_id: str) -> bool:
    """Whether a result in a finished state is stored for the run. Asked before every state a
    worker stores and every claim: written out, not compiled by the ORM each time."""
    return fetch_one(run_finished_sql(), [task_id]) is not None


@cache
def run_finished_sql() -> str:
    """The statement behind run_has_finished (one %s: the task id), for statements that embed it."""
    table = connection.ops.quote_name(TaskResult._meta.db_table)
    finished = ", ".join(f"'{state}'" for state in sorted(FINISHED))
    return f"SELECT 1 FROM {table} WHERE task_id = %s AND status IN ({finished})"  # noqa: S608 (constants; the id is a parameter)


def task_launch_is_revoked(*, task_id: str) -> bool:
    return TaskLaunch.objects.filter(task_id=task_id, revoke_requested_at__isnull=False).exists()


def task_children_counts(*, parent_task_id: str) -> dict[str, int]:
    """How a fan-out parent's children are doing: pending, running, succeeded, failed, total.

    Two queries whatever the number of children.
    """
    children = TaskLaunch.objects.filter(parent_id=parent_task_id)
    total = children.count()
    by_status = TaskResult.objects.filter(task_id__in=children.values("task_id"))
    counts = by_status.aggregate(
        running=Count("id", filter=Q(status__in=RUNNING)),
        succeeded=Count("id", filter=Q(status="SUCCESS")),
        failed=Count("id", filter=Q(status__in=UNSUCCESSFUL)),
    )
    counts["pending"] = total - sum(counts.values())
    return {"total": total, **counts}
