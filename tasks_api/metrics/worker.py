"""Counting in Celery workers: finished runs and their durations; a flush as a process ends."""

import time
from typing import Any

from celery import states
from celery.signals import task_postrun, task_prerun, worker_process_shutdown, worker_shutdown

from tasks_api.metrics import metrics_flush
from tasks_api.metrics.core import run_finished_count
from tasks_api.registry import catalog

# task id -> when its current attempt started (monotonic), for the attempts running in this process.
_started: dict[str, float] = {}


@task_prerun.connect(dispatch_uid="tasks_api.metrics.run_started")
def run_started(task_id: str, **_: Any) -> None:
    _started[task_id] = time.monotonic()


@task_postrun.connect(dispatch_uid="tasks_api.metrics.run_ended")
def run_ended(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    # Only catalog runs (housekeeping is no run), and only attempts that finished the run: a retry
    # (RETRY) is counted by RecordedTask.on_retry, a refused redelivery or a revoke seen by the
    # task (IGNORED) by whoever finished the run.
    if state is not None and state in (states.SUCCESS, states.FAILURE) and task.name in catalog():
        duration = time.monotonic() - started if started is not None else None
        run_finished_count(task_type=task.name, state=state, duration=duration)
    # No flush here: the buffer's thread flushes within a second, which costs a busy worker one
    # round trip a second instead of one per task.


@worker_process_shutdown.connect(dispatch_uid="tasks_api.metrics.pool_process_ended")
@worker_shutdown.connect(dispatch_uid="tasks_api.metrics.worker_ended")
def process_ended(**_: Any) -> None:
    # A pool process leaves through os._exit, which skips atexit: flush what the thread has not.
    metrics_flush()
