"""The API's run history and a fan-out parent's children: filtered by stored state, newest first."""

from datetime import datetime

from django.db.models import QuerySet

from tasks_api.models import TaskLaunch
from tasks_api.runs.queries import task_runs


def task_runs_history(
    *,
    task_type: str | None = None,
    status: str | None = None,
    subject_id: str | None = None,
    launched_after: datetime | None = None,
) -> QuerySet[TaskLaunch]:
    """Every recorded launch matching the filters given, newest first."""
    runs = task_runs()
    if task_type is not None:
        runs = runs.filter(task_type=task_type)
    if subject_id is not None:
        runs = runs.filter(subject_id=subject_id)
    if launched_after is not None:
        runs = runs.filter(created_at__gte=launched_after)
    if status is not None:
        runs = runs.filter(status=status)
    return runs.order_by("-created_at", "-task_id")


def task_children(*, parent_task_id: str, status: str | None = None) -> QuerySet[TaskLaunch]:
    """A fan-out parent's children in the order it launched them."""
    children = task_runs().filter(parent_id=parent_task_id)
    if status is not None:
        children = children.filter(status=status)
    return children.order_by("created_at", "task_id")


def run_error(run: TaskLaunch) -> str | None:
    """A failed run's error in words, as its status answer says it; None otherwise."""
    return (run.error or None) if run.status == "FAILURE" else None
