"""The API's run history and a fan-out parent's children: filtered, ordered, cheap to count.

Rows are task_runs()' (status, times) plus the error of a failed run. A status filter is written
as EXISTS conditions on the results table rather than on the annotated status, so that counting
a filtered history is a semi-join the database plans well on a large table; a test checks that
it agrees with states.run_status on every combination.
"""

from datetime import datetime

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, When
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.selectors.runs import task_runs
from tasks_api.selectors.status import stored_failure_message
from tasks_api.services.launches import launch_failure_message


def runs_shown() -> QuerySet[TaskLaunch]:
    """task_runs() with the stored result of failed runs (`failure`), for their error message."""
    result = TaskResult.objects.filter(task_id=OuterRef("task_id"))
    return task_runs().annotate(
        failure=Case(When(status="FAILURE", then=Subquery(result.values("result")[:1])))
    )


def task_runs_history(
    *,
    task_type: str | None = None,
    status: str | None = None,
    subject_id: str | None = None,
    launched_after: datetime | None = None,
) -> QuerySet[TaskLaunch]:
    """Every recorded launch matching the filters given, newest first."""
    runs = runs_shown()
    if task_type is not None:
        runs = runs.filter(task_type=task_type)
    if subject_id is not None:
        runs = runs.filter(subject_id=subject_id)
    if launched_after is not None:
        runs = runs.filter(created_at__gte=launched_after)
    if status is not None:
        runs = runs.filter(run_status_q(status))
    return runs.order_by("-created_at", "-task_id")


def task_children(*, parent_task_id: str, status: str | None = None) -> QuerySet[TaskLaunch]:
    """A fan-out parent's children in the order it launched them."""
    children = runs_shown().filter(parent_id=parent_task_id)
    if status is not None:
        children = children.filter(run_status_q(status))
    return children.order_by("created_at", "task_id")


def run_status_q(status: str) -> Q:
    """Launch records whose status (states.run_status) is `status`."""
    decided = Exists(TaskResult.objects.filter(task_id=OuterRef("task_id")).exclude(status="PENDING"))
    enqueue_failed = Q(enqueued=False)
    revoked = Q(revoke_requested_at__isnull=False)
    match status:
        case "PENDING":
            return ~decided & ~enqueue_failed & ~revoked
        case "FAILURE":
            return _stored("FAILURE") | (~decided & enqueue_failed)
        case "REVOKED":
            return _stored("REVOKED") | (~decided & ~enqueue_failed & revoked)
    return _stored(status)


def _stored(status: str) -> Q:
    return Q(Exists(TaskResult.objects.filter(task_id=OuterRef("task_id"), status=status)))


def run_error(run: TaskLaunch) -> str | None:
    """A failed run's error in words, as its status answer says it; None otherwise."""
    if getattr(run, "status", None) != "FAILURE":
        return None
    if failure := getattr(run, "failure", None):
        return stored_failure_message(failure)
    return launch_failure_message(run.enqueue_error) if run.enqueued is False else None
