"""The control-plane half of every catalog task: a Celery base class that keeps the records true.

A domain's tasks use `base=RecordedTask` (or a subclass with their own options) and stay thin;
this class refuses to run them once revoked, stops them between steps when revoked while
running, notes their retries on the launch record, reports progress into the result's meta and
records the children a fan-out parent publishes.
"""

from collections.abc import Sequence
from typing import Any

from celery import Task
from celery.exceptions import Ignore
from celery.worker import state as worker_state

from tasks_api.selectors.launches import task_launch_is_revoked
from tasks_api.services.launches import task_launch_children, task_launch_retried


class TaskRevoked(Exception):
    """The run was revoked: it stops between steps, keeping what it already saved."""


class RecordedTask(Task):
    # Children a fan-out parent records and publishes per INSERT and broker connection.
    fanout_batch_size = 500

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            self.stop_if_revoked()
            return super().__call__(*args, **kwargs)
        except TaskRevoked:
            self.backend.mark_as_revoked(self.request.id, reason="revoked", request=self.request)
            raise Ignore() from None

    def stop_if_revoked(self) -> None:
        """Raise TaskRevoked when this run has been revoked."""
        # The launch record is the source every process can read; the worker's in-memory
        # set also catches `celery control revoke` when the task runs in the main process.
        task_id = self.request.id
        if task_id and (task_id in worker_state.revoked or task_launch_is_revoked(task_id=task_id)):
            raise TaskRevoked()

    def on_retry(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        task_launch_retried(task_id=task_id, retries=self.request.retries + 1)

    def report_progress(self, *, current: int, total: int, step: str) -> None:
        """Called before each step of a long run: stays STARTED, with the step in its meta.

        Raises TaskRevoked when the run was revoked meanwhile, so it stops before that step.
        """
        self.stop_if_revoked()
        meta = {"info": "Task is running", "current": current, "total": total, "step": step}
        self.update_state(state="STARTED", meta=meta)

    def launch_children(self, *, task_type: str, params_list: Sequence[dict]) -> int:
        """Record and publish one `task_type` child per params; returns how many were published."""
        return task_launch_children(
            parent_task_id=self.request.id,
            task_type=task_type,
            params_list=params_list,
            batch_size=self.fanout_batch_size,
        )
