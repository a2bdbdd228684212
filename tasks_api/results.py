"""The result backend: django-celery-results' database backend, made safe for outages and redeliveries.

Two changes to the stock backend (settings.CELERY_RESULT_BACKEND names this class):
- it retries on the errors psycopg 3 raises when the database goes away (OperationalError), not
  only on InterfaceError, reconnecting first; a task's result is then stored once the database
  is back instead of being lost with the message;
- a finished state (SUCCESS, FAILURE, REVOKED) is final: a redelivered or republished message
  for a finished run marks it STARTED before the task can refuse to run, and must not undo it.
Storing a finished state also announces it (tasks_api.services.notifications) to waiting requests.
"""

from typing import Any

from celery import states
from django.db import InterfaceError, OperationalError, connection
from django_celery_results.backends.database import DatabaseBackend

from tasks_api.selectors.launches import run_has_finished
from tasks_api.services.notifications import run_finished_notify

# The database is unreachable or the connection broke: worth reconnecting and trying again.
TRANSIENT_DATABASE_ERRORS = (InterfaceError, OperationalError)


def is_transient_database_error(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_DATABASE_ERRORS)


class RecordedDatabaseBackend(DatabaseBackend):
    def exception_safe_to_retry(self, exc: BaseException) -> bool:
        if is_transient_database_error(exc):
            connection.close()  # the next attempt opens a new connection
            return True
        return False

    def _store_result(
        self,
        task_id: str,
        result: Any,
        status: str,
        traceback: Any = None,
        request: Any = None,
        using: Any = None,
    ) -> Any:
        if status not in states.READY_STATES and run_has_finished(task_id=task_id):
            return result
        stored = super()._store_result(task_id, result, status, traceback, request, using)
        if status in states.READY_STATES:
            run_finished_notify(task_ids=[task_id])
        return stored
