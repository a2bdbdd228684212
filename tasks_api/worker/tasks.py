"""The control-plane half of every catalog task: a Celery base class that keeps the records true.

A domain's tasks use `base=RecordedTask` (or a subclass with their own options) and stay thin;
this class runs a run at most once at a time and never again once finished (claims), refuses to
run it once revoked and stops it between steps when revoked while running, retries it when the
database goes away mid-run, records every delivery as an attempt (a duplicate it skips too, and
when a retry is due), reports progress into the result's meta and records the children a
fan-out parent publishes. It also defines the
reconciler, the periodic task that finishes what lost messages and dead workers left behind.
(Finished runs are announced to waiting API requests by the result backend, tasks_api.worker.results.)
"""

import logging
import os
import random
import time
from collections.abc import Sequence
from typing import Any

from celery import Task, shared_task
from celery.app.task import X_DEATH_HEADERS
from celery.exceptions import Ignore, Retry
from celery.worker import state as worker_state
from django.conf import settings
from django.db import DatabaseError

from tasks_api.metrics.core import run_retried_count
from tasks_api.outages import is_transient_database_error
from tasks_api.runs.transitions import run_delivery_skipped, run_waiting
from tasks_api.selectors.launches import task_launch_is_revoked
from tasks_api.services.api_tokens import api_tokens_expire
from tasks_api.services.claims import Claim, run_claim, run_release
from tasks_api.services.fanout import task_launch_children
from tasks_api.services.idempotency import idempotency_keys_expire
from tasks_api.services.launches import TaskRevoked
from tasks_api.services.reconcile import runs_reconcile
from tasks_api.services.retention import runs_expire
from tasks_api.worker.delivery import delivered_queue

logger = logging.getLogger(__name__)
# Carried from retry to retry in the message headers: database outages this run went through,
# and since when (epoch seconds) it has been starting again for them.
OUTAGES_HEADER = "tasks_api_outages"
OUTAGE_SINCE_HEADER = "tasks_api_outage_since"


class RunLost(Exception):
    """The run was lost to dying workers too many times; it is failed instead of tried again."""


class DatabaseUnavailable(Exception):
    """Database outages kept interrupting the run for longer than TASKS_API_OUTAGE_RETRY_SECONDS."""


class RecordedTask(Task):
    # Children a fan-out parent records and publishes per INSERT and broker connection.
    fanout_batch_size = 500

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        claimed = False
        try:
            claim = self._claim()
            claimed = True
            if claim is Claim.REVOKED or self.request.id in worker_state.revoked:
                raise TaskRevoked()
            return super().__call__(*args, **kwargs)
        except TaskRevoked:
            self.backend.mark_as_revoked(self.request.id, reason="revoked", request=self.request)
            raise Ignore() from None
        except DatabaseError as exc:
            if not is_transient_database_error(exc):
                raise
            # Claimed: the database answered when this attempt began, so this is a new outage.
            raise self._retry_after_outage(exc, new_outage=claimed) from exc
        finally:
            if claimed:
                self._release()

    def _claim(self) -> Claim:
        """CLAIMED or REVOKED (the claim is held either way); else skips or fails the run."""
        worker = self.request.hostname or ""
        claim = run_claim(
            task_id=self.request.id, max_lost=settings.TASKS_API_MAX_LOST_DELIVERIES, worker=worker
        )
        if claim in (Claim.FINISHED, Claim.RUNNING_ELSEWHERE):
            logger.info("Skipping a second delivery of %s: %s", self.request.id, claim.value)
            reason = f"A second delivery, skipped: the run {claim.value}"
            run_delivery_skipped(task_id=self.request.id, worker=worker, pid=os.getpid(), reason=reason)
            raise Ignore()
        if claim is Claim.EXHAUSTED:
            raise RunLost(
                f"The worker running this task died {settings.TASKS_API_MAX_LOST_DELIVERIES} times; "
                "it is not tried again (relaunch it once the cause is fixed)"
            )
        return claim

    def _retry_after_outage(self, exc: Exception, *, new_outage: bool) -> Exception:
        """The database went away mid-run: what was saved stays saved, the run starts again
        later, for as long as one outage lasts up to TASKS_API_OUTAGE_RETRY_SECONDS (the task's
        retries are for its own errors: outage_retries says how many of them are not)."""
        headers = dict(self.request.headers or {})
        outages = self.outage_retries()
        since = time.time() if new_outage else float(headers.get(OUTAGE_SINCE_HEADER, time.time()))
        if time.time() - since > settings.TASKS_API_OUTAGE_RETRY_SECONDS:
            minutes = round((time.time() - since) / 60)
            return DatabaseUnavailable(
                f"The database kept failing for {minutes} minutes ({exc}); not tried again"
            )
        countdown = min(5 * 2 ** min(outages, 5), 120) + random.uniform(0, 5)
        headers |= {OUTAGES_HEADER: outages + 1, OUTAGE_SINCE_HEADER: since}
        return self.retry(exc=exc, countdown=countdown, max_retries=self.request.retries + 1, headers=headers)

    def outage_retries(self) -> int:
        """How many of this run's retries were for database outages (carried in its headers)."""
        return int((self.request.headers or {}).get(OUTAGES_HEADER, 0))

    def _release(self) -> None:
        try:
            run_release(task_id=self.request.id)
        except DatabaseError:
            # The database is gone, and the claim's lock with the connection; the state stored
            # next (RETRY, or a final one) clears the claim from the row.
            logger.warning("Could not release the claim on %s", self.request.id, exc_info=True)

    def stop_if_revoked(self) -> None:
        """Raise TaskRevoked when this run has been revoked."""
        # The launch record is the source every process can read; the worker's in-memory
        # set also catches `celery control revoke` when the task runs in the main process.
        task_id = self.request.id
        if task_id and (task_id in worker_state.revoked or task_launch_is_revoked(task_id=task_id)):
            raise TaskRevoked()

    def retry(self, *args: Any, **kwargs: Any) -> Any:
        """Celery's retry, to the queue this delivery came from, remembering when the retry is
        due: the result backend's RETRY write (which receives this request) records it on the attempt."""
        # On RabbitMQ Celery's own would follow the routes: an on-demand run's retry would
        # join the fan-out's children (the router's queue decides a delayed message's key).
        queues = self.app.amqp.queues.values()
        kwargs.setdefault("queue", delivered_queue(delivery_info=self.request.delivery_info, queues=queues))
        if "headers" in kwargs:
            # Passed on from this delivery, minus RabbitMQ's record of its trip through the delayed
            # queues: a message carrying it through them again is taken for a dead-letter cycle
            # and never delivered (celery#9867). Celery's own retry strips it; given headers replace that.
            kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k not in X_DEATH_HEADERS}
        try:
            return super().retry(*args, **kwargs)
        except Retry as signal:
            self.request.retry_when = signal.when
            raise

    def on_retry(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        run_retried_count(task_type=self.name)

    def report_progress(self, *, current: int, total: int, step: str) -> None:
        """Called before each step of a long run: stays STARTED, with the step in its meta.

        Raises TaskRevoked when the run was revoked meanwhile, so it stops before that step.
        """
        self.stop_if_revoked()
        self.request.progress = {"current": current, "total": total, "step": step}
        self._store_running(waiting=getattr(self.request, "waiting", ""))

    def report_waiting(self, *, waiting: str) -> None:
        """Say what the run waits for now (a rate, a service coming back), or "" when it goes on:
        in its meta (beside the progress) and on its attempt. Raises TaskRevoked like report_progress."""
        self.stop_if_revoked()
        self.request.waiting = waiting
        run_waiting(task_id=self.request.id, waiting=waiting)
        self._store_running(waiting=waiting)

    def _store_running(self, *, waiting: str) -> None:
        meta = {"info": "Task is running", **getattr(self.request, "progress", {})}
        self.update_state(state="STARTED", meta=meta | ({"waiting": waiting} if waiting else {}))

    def launch_children(self, *, task_type: str, params_list: Sequence[dict]) -> int:
        """Record and publish one `task_type` child per params; returns how many were published.

        Replayable: a redelivered parent publishes only the children not yet published, and
        stops (TaskRevoked) between batches once it is revoked.
        """
        return task_launch_children(
            parent_task_id=self.request.id,
            task_type=task_type,
            params_list=params_list,
            batch_size=self.fanout_batch_size,
        )


@shared_task(name="tasks_api.reconcile_runs", ignore_result=True)
def reconcile_runs() -> dict[str, int]:
    """Publish what was never published or lost, recover runs whose worker died, and forget
    runs past their retention, Idempotency-Keys past theirs and expired API tokens."""
    return {
        **runs_reconcile(),
        "expired_runs": runs_expire(),
        "expired_idempotency_keys": idempotency_keys_expire(),
        "expired_api_tokens": api_tokens_expire(),
    }
