"""Retention: finished runs older than TASKS_API_RETENTION_DAYS go, with their attempts and results,
in bounded batches (each its own transaction), keeping the latest run of each task type and subject
and every run a kept run refers to (its fan-out parent, the run it relaunched)."""

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api.models import IdempotencyKey, RunAttempt, TaskLaunch
from tasks_api.states import FINISHED

BATCH = 1000
# One reconciler pass deletes for at most this long, so that a first pass over years of history
# never holds the reconciler (or the database) for long; the next pass goes on.
PASS_SECONDS = 10.0


def runs_expire(*, now: datetime | None = None, batch_size: int = BATCH, budget: float = PASS_SECONDS) -> int:
    """Delete expired runs and results, batch after batch, until none is left or the pass's time is
    spent; how many runs and orphan results went. Nothing with TASKS_API_RETENTION_DAYS = 0."""
    if not settings.TASKS_API_RETENTION_DAYS:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=settings.TASKS_API_RETENTION_DAYS)
    deadline, deleted = time.monotonic() + budget, 0
    for batch in (_expired_runs, _orphan_results):
        while time.monotonic() < deadline and (ids := list(batch(cutoff)[:batch_size])):
            deleted += _delete(ids)
    return deleted


def _expired_runs(cutoff: datetime) -> "QuerySet[TaskLaunch, str]":
    """Finished before the cutoff, superseded by a later run of its type and subject, and referred
    to by no run (a kept child keeps its parent; a parent goes once its children have)."""
    runs = TaskLaunch.objects.filter(created_at__lt=cutoff, status__in=FINISHED)
    later = TaskLaunch.objects.filter(task_type=OuterRef("task_type"), created_at__gt=OuterRef("created_at"))
    superseded = Q(Exists(later.filter(subject_id=OuterRef("subject_id"))), subject_id__isnull=False) | Q(
        Exists(later.filter(subject_id__isnull=True)), subject_id__isnull=True
    )
    children = TaskLaunch.objects.filter(parent_id=OuterRef("task_id"))
    relaunches = TaskLaunch.objects.filter(relaunch_of_id=OuterRef("task_id"))
    runs = runs.filter(superseded).exclude(Exists(children)).exclude(Exists(relaunches))
    return runs.order_by("created_at").values_list("task_id", flat=True)


def _orphan_results(cutoff: datetime) -> "QuerySet[TaskResult, str]":
    """Results of tasks that were never runs (published by hand), done before the cutoff."""
    runs = TaskLaunch.objects.filter(task_id=OuterRef("task_id"))
    results = TaskResult.objects.filter(date_done__lt=cutoff).exclude(Exists(runs))
    return results.order_by("date_done").values_list("task_id", flat=True)


def _delete(task_ids: list[str]) -> int:
    with transaction.atomic():
        RunAttempt.objects.filter(run_id__in=task_ids).delete()
        TaskResult.objects.filter(task_id__in=task_ids).delete()
        IdempotencyKey.objects.filter(launch_id__in=task_ids).update(launch=None)
        # A relaunch recorded since the batch was read keeps its record, without the link.
        TaskLaunch.objects.filter(relaunch_of_id__in=task_ids).update(relaunch_of=None)
        TaskLaunch.objects.filter(task_id__in=task_ids)._raw_delete(TaskLaunch.objects.db)
    return len(task_ids)
