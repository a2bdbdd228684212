"""Task runs for the admin's lists: launch records annotated with their result's state and times."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.states import FINISHED, run_status_expression


def task_runs() -> "QuerySet[TaskRun]":
    """One row per launch: its status as the API reports it, start, finish and duration."""
    # task_id is unique: no ordering needed (TaskResult's default, by date_done, costs a sort per run).
    result = TaskResult.objects.filter(task_id=OuterRef("task_id")).order_by()
    return (
        TaskLaunch.objects.select_related("user")
        .annotate(
            result_status=Subquery(result.values("status")[:1]),
            result_created_at=Subquery(result.values("date_created")[:1]),
            done_at=Subquery(result.values("date_done")[:1]),
        )
        .annotate(
            status=run_status_expression("result_status"),
            finished_at=Case(When(status__in=FINISHED, then=F("done_at"))),
            # A REVOKED row the revoke itself wrote (no worker started the task) has no start.
            started_at=Case(
                When(status="REVOKED", result_created_at__gte=F("revoke_requested_at"), then=Value(None)),
                default=F("result_created_at"),
            ),
        )
        .annotate(
            duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        )
    )


class RunAnnotations(TypedDict):
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration: timedelta | None


if TYPE_CHECKING:  # for the type checker only: django-stubs-ext is a development tool here
    from django_stubs_ext import WithAnnotations

    # A launch record as task_runs() returns it.
    TaskRun = WithAnnotations[TaskLaunch, RunAnnotations]
