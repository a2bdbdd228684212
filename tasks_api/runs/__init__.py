"""Runs: the stored state of every launch, the one module that changes it, and its attempts.

Public face for domain apps: the run model (TaskLaunch, one row per run), its attempts and the
runs' queries. transitions and attempts are the control plane's own.
"""

from typing import TYPE_CHECKING

from tasks_api.models import RunAttempt, TaskLaunch
from tasks_api.runs.queries import run_attempts, task_runs
from tasks_api.states import FINISHED, STATUSES, UNFINISHED

if TYPE_CHECKING:
    from tasks_api.runs.queries import TaskRun

__all__ = [
    "FINISHED",
    "STATUSES",
    "UNFINISHED",
    "RunAttempt",
    "TaskLaunch",
    "TaskRun",
    "run_attempts",
    "task_runs",
]
