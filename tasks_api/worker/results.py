"""The result backend: django-celery-results' database backend, made safe for outages and redeliveries.

Three changes to the stock backend (settings.CELERY_RESULT_BACKEND names this class):
- it waits through a database outage for a time (tasks_api.outages: TASKS_API_DATABASE_WAIT_SECONDS,
  with backoff), not for a count of attempts, on the errors psycopg 3 raises when the database
  goes away (OperationalError) as well as InterfaceError, reconnecting first;
- a state it could not store within that time is never turned into a FAILURE: the run keeps its
  last stored state, and its retry message (or the reconciler) runs it again once the database is
  back, instead of a FAILURE hiding the rows it never wrote;
- every state it stores is applied to the run's row (tasks_api.runs.transitions) in the same
  transaction, and is not stored at all once the run has finished: a redelivered or republished
  message for a finished run marks it STARTED before the task can refuse to run, and a late
  finish must not undo another. The run's row and its result row so always agree.
Storing a finished state also announces it (tasks_api.runs.notifications) to waiting requests.
"""

import logging
from typing import Any

from celery.exceptions import BackendStoreError
from django.db import transaction
from django_celery_results.backends.database import DatabaseBackend

from tasks_api.outages import is_transient_database_error, outage_deadline, outage_pause
from tasks_api.runs.transitions import run_state_stored

logger = logging.getLogger(__name__)


class RecordedDatabaseBackend(DatabaseBackend):
    def _ensure_retryable(
        self, func: Any, *args: Any, fallback_exc: Any = None, fallback_msg: Any = None, **kwargs: Any
    ) -> Any:
        if kwargs.get("max_retries") is not None:
            # A caller's own short budget (the worker's main process checking a stored success):
            # that process must not stop consuming for minutes.
            return super()._ensure_retryable(
                func, *args, fallback_exc=fallback_exc, fallback_msg=fallback_msg, **kwargs
            )
        # Celery's loop counts attempts (result_backend_max_retries); an outage is measured in time.
        deadline, attempt = outage_deadline(), 0
        while True:
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                if not is_transient_database_error(exc):
                    raise
                logger.warning("Result backend: database unavailable (%s); waiting for it", exc)
                if not outage_pause(attempt=attempt, deadline=deadline):
                    if fallback_exc:
                        raise fallback_exc(fallback_msg) from exc
                    raise
                attempt += 1

    def exception_safe_to_retry(self, exc: BaseException) -> bool:
        return is_transient_database_error(exc)

    def mark_as_failure(self, task_id: str, exc: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(exc, BackendStoreError):
            # Not the task's failure: the database was away longer than a write waits. Its last
            # stored state stays; its retry message or the reconciler runs it again.
            logger.warning("Run %s: not marked failed for a database outage (%s)", task_id, exc)
            return None
        return super().mark_as_failure(task_id, exc, *args, **kwargs)

    def _store_result(
        self,
        task_id: str,
        result: Any,
        status: str,
        traceback: Any = None,
        request: Any = None,
        using: Any = None,
    ) -> Any:
        with transaction.atomic():
            if not run_state_stored(task_id=task_id, state=status, meta=result, request=request):
                return result
            return super()._store_result(task_id, result, status, traceback, request, using)
