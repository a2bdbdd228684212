"""Helpers for tests of task runs: stored results, and a run that failed the way syncs fail."""

import json

from django.utils import timezone
from django_celery_results.models import TaskResult

from tests.factories import TaskLaunchFactory

CHANGELIST = "/admin/tasks_api/tasklaunch/"


def stored(launch, status, result=None, traceback=None) -> TaskResult:
    return TaskResult.objects.create(
        task_id=launch.task_id, task_name=launch.task_type, status=status, result=json.dumps(result),
        traceback=traceback, date_done=timezone.now(),
    )  # fmt: skip


def failed_run(company=None):
    """A sync_documents run whose result says the SII answered 503; about `company` if given."""
    params = {"company_id": str(company.pk) if company else None, "months": 2, "month_offset": 1}
    launch = TaskLaunchFactory(params=params, subject_id=company.pk if company else None)
    stored(
        launch,
        "FAILURE",
        {"exc_type": "SiiUnavailable", "exc_message": ["getResumen: HTTP 503 from the SII."]},
        "Traceback (most recent call last):\n  boom",
    )
    return launch
