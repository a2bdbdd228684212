"""Public face for domain apps: what a domain declares to offer its tasks (the catalog's task
types, their parameters and console hooks), the base class its Celery tasks run on, and whether a
run is live (a lock a task takes for its run goes by its run's claim)."""

from tasks_api.params import StrictIntegerField, TaskParamsSerializer
from tasks_api.registry import ConsoleHooks, TaskType
from tasks_api.services.claims import run_is_live
from tasks_api.worker.tasks import RecordedTask

__all__ = [
    "ConsoleHooks",
    "RecordedTask",
    "StrictIntegerField",
    "TaskParamsSerializer",
    "TaskType",
    "run_is_live",
]
