"""Helpers for tests of task runs: stored results, a failed sync run, launches a worker finishes."""

import json

import httpx
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api.services.launches import task_launch
from tests.factories import TaskLaunchFactory
from tests.processes import wait_for

CHANGELIST = "/admin/tasks_api/tasklaunch/"
FINISHED = {"SUCCESS", "FAILURE", "REVOKED"}


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


def launch(task_type: str, **params) -> str:
    """Record and publish a launch (for tests with a real worker); its task id."""
    return str(task_launch(task_type=task_type, params=params, launched_by="system").task_id)


def finished(task_id: str, timeout: float = 90) -> TaskResult:
    """The run's result row once it finished."""
    return wait_for(
        lambda: TaskResult.objects.filter(task_id=task_id, status__in=FINISHED).first(),
        timeout=timeout, what=f"task {task_id} to finish",
    )  # fmt: skip


def poll(http: httpx.Client, task_id: str, until=FINISHED, timeout: float = 60) -> dict:
    """The status answer of `task_id`, read over the API until its status is in `until`."""

    def status():
        body = http.get(f"/tasks/{task_id}").json()
        return body if body["status"] in until else None

    return wait_for(status, timeout=timeout, interval=0.1, what=f"task {task_id} to reach {until}")
