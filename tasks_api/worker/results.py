"""The result backend: django-celery-results' database backend, made safe for outages and redeliveries.

Two changes to the stock backend (settings.CELERY_RESULT_BACKEND names this class):
- it retries on the errors psycopg 3 raises when the database goes away (OperationalError), not
  only on InterfaceError, reconnecting first; a task's result is then stored once the database
  is back instead of being lost with the message;
- every state it stores is applied to the run's row (tasks_api.runs.transitions) in the same
  transaction, and is not stored at all once the run has finished: a redelivered or republished
  message for a finished run marks it STARTED before the task can refuse to run, and a late
  finish must not undo another. The run's row and its result row so always agree.
Storing a finished state also announces it (tasks_api.runs.notifications) to waiting requests.
"""

from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django_celery_results.backends.database import DatabaseBackend

from tasks_api.runs.transitions import run_state_stored

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
        with transaction.atomic():
            if not run_state_stored(task_id=task_id, state=status, meta=result, request=request):
                return result
            return super()._store_result(task_id, result, status, traceback, request, using)
