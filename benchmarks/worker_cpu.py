"""Worker CPU per trivial task: bench.noop launched through the launch service (claim, revocation
check, recorded result) against bench.bare sent with send_task (a plain task, result stored).

The worker stops consuming while the tasks are published, so only running them is measured: the
CPU of its main process and pool children from the moment it consumes again until every result
is stored, divided by the number of tasks. Worker events are off for both (Flower is stopped).
"""

import time

from django_celery_results.models import TaskResult

from benchmarks.figures import spec
from benchmarks.stack import Service
from support.waits import wait_for

SPECS = [
    spec(
        "worker_cpu", "Worker CPU per trivial task", "ms", ratio=1.5,
        reference_name="bare Celery task (bench.bare)",
    ),
]  # fmt: skip
QUEUE = "celery"


def worker_measure(side: str, *, app, worker: Service, tasks: int, user) -> dict[str, float]:
    """CPU milliseconds the worker spends per task of `side` ("ours" or "reference")."""
    _consume(app, False)
    try:
        ids = _publish_ours(tasks, user) if side == "ours" else _publish_bare(app, tasks)
        before = worker.cpu_seconds()
    finally:
        _consume(app, True)
    wait_for(lambda: _finished(ids), timeout=300, interval=0.05, what=f"{tasks} {side} tasks")
    spent = worker.cpu_seconds() - before
    time.sleep(0.2)  # the pool's last acknowledgements, outside the next measurement
    return {"worker_cpu": spent * 1000 / tasks}


def _consume(app, on: bool) -> None:
    """Make the (one) worker start or stop consuming the queue; returns once it answered."""
    command = app.control.add_consumer if on else app.control.cancel_consumer
    if not command(QUEUE, reply=True, timeout=10, limit=1):
        raise RuntimeError(f"The worker did not answer {command.__name__}")


def _publish_ours(tasks: int, user) -> list[str]:
    from tasks_api.services.catalog import task_launch_validated

    return [
        str(task_launch_validated(task_type="bench.noop", data={}, user=user).task_id) for _ in range(tasks)
    ]


def _publish_bare(app, tasks: int) -> list[str]:
    return [app.send_task("bench.bare").id for _ in range(tasks)]


def _finished(ids: list[str]) -> bool:
    return TaskResult.objects.filter(task_id__in=ids, status="SUCCESS").count() == len(ids)
