"""Public face for domain apps: launch a task as the API and the admin do (validated, recorded,
published), and the errors a launch raises."""

from tasks_api.services.catalog import InvalidParams, task_launch_validated
from tasks_api.services.launches import TaskLaunchFailed

__all__ = ["InvalidParams", "TaskLaunchFailed", "task_launch_validated"]
