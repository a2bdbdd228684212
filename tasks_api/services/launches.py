"""Launching tasks: record first, publish after the record commits, with the task id fixed."""

import logging
from collections.abc import Iterable, Sequence

from celery import current_app
from django.db import transaction

from tasks_api.models import TaskLaunch
from tasks_api.registry import catalog

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
        subject_id=_subject_of(task_type, params),
        launched_by=launched_by,
        user=user,
        relaunch_of=relaunch_of,
        periodic_task_name=periodic_task_name,
    )
    transaction.on_commit(lambda: task_launch_publish(launch=launch), robust=False)
    return launch


def _subject_of(task_type: str, params: dict) -> str | None:
    known = catalog().get(task_type)
    return known.subject_of(params) if known else None


def task_relaunch(*, launch: TaskLaunch, user) -> TaskLaunch:
    """A new launch with the same task type and exactly the same params, linked to the original."""
    return task_launch(
        task_type=launch.task_type,
        params=launch.params,
        launched_by=TaskLaunch.LaunchedBy.USER,
        user=user,
        relaunch_of=launch,
    )


def launch_failure_message(reason: str) -> str:
    """How every surface (API, admin, status) says that a publish failed."""
    return f"Failed to launch task: {reason}"


class TaskLaunchFailed(Exception):
    """The broker did not take the message; the launch record says so too."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(launch_failure_message(reason))


def task_launch_publish(*, launch: TaskLaunch, producer=None) -> None:
    """Publish a recorded launch; mark it enqueued, or record why it was not and raise."""
    try:
        _send(launch, producer=producer)
    except Exception as exc:  # kombu and redis-py raise many types; all mean "not enqueued"
        reason = _not_enqueued([launch.task_id], exc)
        launch.enqueued, launch.enqueue_error = False, reason
        raise TaskLaunchFailed(reason) from exc
    TaskLaunch.objects.filter(pk=launch.pk).update(enqueued=True)
    launch.enqueued = True


def _not_enqueued(task_ids: list[str], exc: Exception) -> str:
    """Record on the launches that their publish failed, and why; returns the reason."""
    reason = str(exc) or type(exc).__name__
    TaskLaunch.objects.filter(task_id__in=task_ids).update(enqueued=False, enqueue_error=reason[:2000])
    return reason


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
    """Record and publish one child task per params, in batches: one INSERT, one broker
    connection and one UPDATE per batch, never a query per child. A child is marked enqueued
    only once its publish succeeded; the first refused publish marks the rest of its batch
    not enqueued and raises TaskLaunchFailed. Returns how many were published."""
    published = 0
    for batch in _chunks(params_list, batch_size):
        launches = TaskLaunch.objects.bulk_create(_children(parent_task_id, task_type, batch))
        _publish_batch(launches)
        published += len(launches)
    return published


def _children(parent_task_id: str, task_type: str, batch: Sequence[dict]) -> list[TaskLaunch]:
    return [
        TaskLaunch(
            task_type=task_type,
            params=params,
            subject_id=_subject_of(task_type, params),
            launched_by=TaskLaunch.LaunchedBy.FANOUT,
            parent_id=parent_task_id,
        )
        for params in batch
    ]


def _publish_batch(launches: Sequence[TaskLaunch]) -> None:
    ids = [launch.task_id for launch in launches]
    published = 0
    try:
        with current_app.producer_or_acquire() as producer:
            for launch in launches:
                _send(launch, producer=producer)
                published += 1
    except Exception as exc:  # as in task_launch_publish: any error means "not enqueued"
        TaskLaunch.objects.filter(task_id__in=ids[:published]).update(enqueued=True)
        raise TaskLaunchFailed(_not_enqueued(ids[published:], exc)) from exc
    TaskLaunch.objects.filter(task_id__in=ids).update(enqueued=True)


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
            "subject_id": _subject_of(task_type, params),
            "enqueued": True,
        },
    )


def task_launch_retried(*, task_id: str, retries: int) -> None:
    """Note on the launch record how many times the task has been retried."""
    TaskLaunch.objects.filter(task_id=task_id).update(retries=retries)
