"""Revoking tasks without ever overwriting the state of one that already finished."""

import logging

from celery import current_app
from django.db import transaction
from django_celery_results.models import TaskResult

from tasks_api.metrics.core import run_finished_count
from tasks_api.models import TaskLaunch
from tasks_api.redis_clients import server_guard
from tasks_api.runs.transitions import runs_revoke_requested
from tasks_api.selectors.status import task_launch_find
from tasks_api.states import FINISHED

logger = logging.getLogger(__name__)


class TaskNotFound(LookupError):
    """Nobody launched a task with that id and no result is stored for it."""


class TaskAlreadyFinished(Exception):
    """The task (and, for a fan-out parent, every child) has finished; nothing to revoke."""


def task_revoke(*, task_id: str, terminate: bool = False, user=None) -> list[str]:
    """Revoke a pending or running task (and a fan-out parent's unfinished children).

    Pending tasks, and tasks waiting for a retry, show REVOKED at once, even with no worker
    online: the run and the result store both say so, and the task refuses to run when a worker
    receives it later.
    A running task is told through the broker, and killed when `terminate` is true. A finished
    run (a launch that failed to enqueue included) is never revoked.
    Returns the ids revoked: the task's own unless it had finished, and its unfinished children.
    """
    launch = task_launch_find(task_id=task_id)
    if launch is None:
        if TaskResult.objects.filter(task_id=task_id).exists():
            raise TaskAlreadyFinished(task_id)
        raise TaskNotFound(task_id)
    # The run first, committed, then its children: a parent dispatching children reads its own
    # revocation after recording each batch, so either it sees this one, or the children it
    # recorded are already there for the second step to find.
    revoked = _revoke_unfinished([launch.task_id], terminate=terminate, user=user)
    children = list(launch.children.values_list("task_id", flat=True))
    revoked += _revoke_unfinished(children, terminate=terminate, user=user)
    if not revoked:
        raise TaskAlreadyFinished(task_id)
    _broadcast_revoke(revoked, terminate=terminate)
    return revoked


def _revoke_unfinished(task_ids: list[str], *, terminate: bool, user) -> list[str]:
    unfinished = list(
        TaskLaunch.objects.filter(task_id__in=task_ids)
        .exclude(status__in=FINISHED)
        .values_list("task_id", flat=True)
    )
    if unfinished:
        newly_revoked = runs_revoke_requested(task_ids=unfinished, user=user, terminate=terminate)
        # Counted here, running runs too (the worker that stops one does not count it again), and
        # once: a second revoke of a run still running is no second finish.
        transaction.on_commit(lambda: _count_revoked(newly_revoked))
    return unfinished


def _broadcast_revoke(task_ids: list[str], *, terminate: bool) -> None:
    try:
        # SIGKILL: pool children ignore SIGTERM where it is remapped (REMAP_SIGTERM), so only
        # KILL stops a task whatever the worker's signal set-up. Not tried while the broker is
        # skipped after a failure (tasks_api.redis_clients).
        with server_guard(current_app.conf.broker_url):
            current_app.control.revoke(task_ids, terminate=terminate, signal="SIGKILL")
    except Exception:  # the broker is down: the launch records still stop the tasks
        logger.warning("Revoke of %s recorded but not broadcast: broker unreachable", task_ids, exc_info=True)


def _count_revoked(task_ids: list[str]) -> None:
    names = dict(TaskLaunch.objects.filter(task_id__in=task_ids).values_list("task_id", "task_type"))
    for task_id in task_ids:
        run_finished_count(task_type=names.get(task_id), state="REVOKED")
