"""Helpers for tests of task runs: stored results, a failed sync run, launches a worker finishes."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
from celery import current_app
from celery.app.task import Context
from django.db.models import Q
from django_celery_results.models import TaskResult

from sii.services.locks import company_sync_lock
from tasks_api.models import TaskLaunch
from tasks_api.runs.transitions import runs_publish_failed, runs_revoke_requested
from tasks_api.services.claims import run_claim, run_release
from tasks_api.services.launches import task_launch
from tests.factories import TaskLaunchFactory
from tests.processes import wait_for

CHANGELIST = "/admin/tasks_api/tasklaunch/"
FINISHED = {"SUCCESS", "FAILURE", "REVOKED"}


def stored(launch, status, result=None, traceback=None, **request) -> TaskResult:
    """The state a worker stores for the run, through the result backend as a worker stores it
    (so the run's own row takes it too); `result` as the backend encodes it (an exception as
    {exc_type, exc_message})."""
    context = Context(id=launch.task_id, task=launch.task_type, **request)
    if status in ("SUCCESS", "FAILURE", "RETRY") and not TaskResult.objects.filter(task_id=launch.task_id):
        # A worker marks the run STARTED first (task_track_started): so has it here.
        current_app.backend._store_result(launch.task_id, {"pid": 1}, "STARTED", request=context)
    current_app.backend._store_result(launch.task_id, result, status, traceback=traceback, request=context)
    return TaskResult.objects.get(task_id=launch.task_id)


def delivered(launch, status, result=None, *, worker="celery@test-host", **request):
    """One delivery of the run, as a worker makes it: claimed (its attempt opens), then `status`
    stored (ending the attempt), then released."""
    run_claim(task_id=launch.task_id, max_lost=3, worker=worker)
    try:
        stored(launch, status, result, **request)
    finally:
        run_release(task_id=launch.task_id)
    launch.refresh_from_db()
    return launch


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


def launched_days_ago(*, days_ago: float, now: datetime, status: str = "SUCCESS", **fields) -> TaskLaunch:
    """A run (TaskLaunchFactory `fields`) launched `days_ago` days before `now` that ended
    `status` (PENDING: it never started)."""
    run = TaskLaunchFactory(**fields)
    if status != "PENDING":
        delivered(run, status)
    TaskLaunch.objects.filter(pk=run.pk).update(created_at=now - timedelta(days=days_ago))
    return run


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


def publish_failed(launch, reason: str = "Connection refused"):
    """The broker refused the launch's publish, as the launch service records it."""
    runs_publish_failed(task_ids=[launch.task_id], reason=reason)
    launch.refresh_from_db()
    return launch


def revoked(launch, user=None):
    """A revoke of the run recorded, as the revoke service records it (no broadcast)."""
    runs_revoke_requested(task_ids=[launch.task_id], user=user, terminate=False)
    launch.refresh_from_db()
    return launch


@contextmanager
def running_here(*task_ids: str) -> Iterator[None]:
    """The runs are claimed by this process, as the worker running them holds their claims (on
    PostgreSQL, this connection's advisory locks): they are live until the block ends."""
    for task_id in task_ids:
        run_claim(task_id=task_id, max_lost=3, worker="celery@test-host")
    try:
        yield
    finally:
        for task_id in task_ids:
            run_release(task_id=task_id)


@contextmanager
def company_busy(company) -> Iterator[None]:
    """Another sync of `company` runs (this process holds it) until the block ends: a sync of it
    launched meanwhile retries after a countdown of seconds (an SII error's may be 0 s: jittered)."""
    with running_here("another-sync"), company_sync_lock(company=company, holder="another-sync"):
        yield


def children_under_way(*, parent_id: str, count: int) -> int:
    """Once the parent's `count` children are queued and a worker is busy with the first: how
    many still wait."""
    children = TaskLaunch.objects.filter(parent_id=parent_id)
    wait_for(
        lambda: children.count() == count and children.filter(status="STARTED").exists(),
        timeout=30, what="the children to be queued and a worker busy with them",
    )  # fmt: skip
    return children.filter(status="PENDING").count()


def children_waiting_when_started(*, parent_id: str, task_id: str) -> int:
    """How many of the parent's children had not started yet when the run `task_id` started."""
    started_at = TaskLaunch.objects.get(task_id=task_id).started_at
    children = TaskLaunch.objects.filter(parent_id=parent_id)
    return children.filter(Q(started_at__gt=started_at) | Q(started_at=None)).count()


def children_finished(*, parent_id: str, timeout: float = 60) -> None:
    """Until every child of the parent has finished (the next test finds the queues empty)."""
    unfinished = TaskLaunch.objects.filter(parent_id=parent_id).exclude(status__in=FINISHED)
    wait_for(lambda: not unfinished.exists(), timeout=timeout, what="the children to finish")
