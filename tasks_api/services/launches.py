"""Launching tasks: record first, publish after the record commits, with the task id fixed."""

import logging
import uuid
from collections.abc import Iterable, Sequence

from celery import current_app
from django.db import transaction

from tasks_api.models import TaskLaunch

logger = logging.getLogger(__name__)
LAUNCH_RECORDED_HEADER = "launch_recorded"


def task_launch(
    *,
    task_type: str,
    params: dict,
    launched_by: str,
    user=None,
    relaunch_of: TaskLaunch | None = None,
    periodic_task_name: str = "",
) -> TaskLaunch:
    """Record a launch and publish it once the record is committed."""
    launch = TaskLaunch.objects.create(
        task_type=task_type,
        params=params,
        company_id=_company_id(params),
        launched_by=launched_by,
        user=user,
        relaunch_of=relaunch_of,
        periodic_task_name=periodic_task_name,
    )
    transaction.on_commit(lambda: task_launch_publish(launch=launch), robust=False)
    return launch


def _company_id(params: dict) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(params["company_id"]))
    except (KeyError, ValueError):
        return None


def task_relaunch(*, launch: TaskLaunch, user) -> TaskLaunch:
    """A new launch with the same task type and exactly the same params, linked to the original."""
    return task_launch(
        task_type=launch.task_type,
        params=launch.params,
        launched_by=TaskLaunch.LaunchedBy.USER,
        user=user,
        relaunch_of=launch,
    )


class TaskLaunchFailed(Exception):
    """The broker did not take the message; the launch record says so too."""


def task_launch_publish(*, launch: TaskLaunch, producer=None) -> None:
    """Publish a recorded launch; mark it enqueued, or record why it was not and raise."""
    try:
        _send(launch, producer=producer)
    except Exception as exc:  # kombu and redis-py raise many types; all mean "not enqueued"
        reason = str(exc) or type(exc).__name__
        TaskLaunch.objects.filter(pk=launch.pk).update(enqueued=False, enqueue_error=reason[:2000])
        launch.enqueued, launch.enqueue_error = False, reason
        raise TaskLaunchFailed(reason) from exc
    TaskLaunch.objects.filter(pk=launch.pk).update(enqueued=True)
    launch.enqueued = True


def _send(launch: TaskLaunch, *, producer=None) -> None:
    current_app.send_task(
        launch.task_type,
        kwargs=launch.params,
        task_id=launch.task_id,
        producer=producer,
        retry=True,
        # Tells the before_task_publish handler that this publish is already recorded.
        headers={LAUNCH_RECORDED_HEADER: True},
    )


def task_launch_children(
    *, parent_task_id: str, task_type: str, params_list: Sequence[dict], batch_size: int
) -> int:
    """Record and publish one child task per params, in batches: one INSERT and one broker
    connection per batch, never a query per child. Returns how many were published."""
    published = 0
    for batch in _chunks(params_list, batch_size):
        launches = [
            TaskLaunch(
                task_type=task_type,
                params=params,
                company_id=_company_id(params),
                launched_by=TaskLaunch.LaunchedBy.FANOUT,
                parent_id=parent_task_id,
                enqueued=True,
            )
            for params in batch
        ]
        TaskLaunch.objects.bulk_create(launches)
        _publish_batch(launches)
        published += len(launches)
    return published


def _publish_batch(launches: Sequence[TaskLaunch]) -> None:
    with current_app.producer_or_acquire() as producer:
        for launch in launches:
            _send(launch, producer=producer)


def _chunks(items: Sequence[dict], size: int) -> Iterable[Sequence[dict]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def task_launch_record_external(
    *, task_id: str, task_type: str, params: dict, periodic_task_name: str
) -> None:
    """Record a publish that did not go through task_launch (beat, `celery call`), once."""
    launched_by = TaskLaunch.LaunchedBy.BEAT if periodic_task_name else TaskLaunch.LaunchedBy.SYSTEM
    TaskLaunch.objects.get_or_create(
        task_id=task_id,
        defaults={
            "task_type": task_type,
            "params": params,
            "launched_by": launched_by,
            "periodic_task_name": periodic_task_name,
            "company_id": _company_id(params),
            "enqueued": True,
        },
    )


def task_launch_retried(*, task_id: str, retries: int) -> None:
    """Note on the launch record how many times the task has been retried."""
    TaskLaunch.objects.filter(task_id=task_id).update(retries=retries)
