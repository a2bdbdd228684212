"""The benchmark's two trivial tasks: one with the control plane, one without."""

from typing import Any

from celery import shared_task

from tasks_api.worker.tasks import RecordedTask


@shared_task(bind=True, base=RecordedTask, name="bench.noop")
def noop(self: RecordedTask, note: str = "") -> dict[str, Any]:
    """Nothing, through the control plane: claim, revocation check, recorded result."""
    return {"ok": True}


@shared_task(name="bench.bare")
def bare(note: str = "") -> dict[str, Any]:
    """Nothing, as a plain Celery task storing its result in the result backend (Flower's case)."""
    return {"ok": True}
