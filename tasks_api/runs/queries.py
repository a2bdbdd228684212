"""Task runs for the lists (each run's stored state and times, with how long it took) and a
run's attempts."""

from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db.models import DurationField, ExpressionWrapper, F, QuerySet

from tasks_api.models import RunAttempt, TaskLaunch


def run_attempts(*, task_id: str) -> QuerySet[RunAttempt]:
    """The run's attempts, one per delivery, first first (ties by insertion)."""
    return RunAttempt.objects.filter(run_id=task_id).order_by("started_at", "id")


def task_runs() -> "QuerySet[TaskRun]":
    """One row per run: its stored status, start and finish, and its duration."""
    return TaskLaunch.objects.select_related("user").annotate(
        duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    )


class RunAnnotations(TypedDict):
    duration: timedelta | None


if TYPE_CHECKING:  # for the type checker only: django-stubs-ext is a development tool here
    from django_stubs_ext import WithAnnotations

    # A launch record as task_runs() returns it.
    TaskRun = WithAnnotations[TaskLaunch, RunAnnotations]
