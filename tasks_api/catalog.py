"""Public face for domain apps: what a domain declares to offer its tasks (the catalog's task
types, their parameters and console hooks) and the base class its Celery tasks run on."""

from tasks_api.params import StrictIntegerField, TaskParamsSerializer
from tasks_api.registry import ConsoleHooks, TaskType
from tasks_api.worker.tasks import RecordedTask

__all__ = ["ConsoleHooks", "RecordedTask", "StrictIntegerField", "TaskParamsSerializer", "TaskType"]
