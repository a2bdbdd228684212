"""The result backend: a finished state is final, and a lost database connection is retried."""

import uuid

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from tasks_api.results import RecordedDatabaseBackend

pytestmark = pytest.mark.django_db


def test_the_app_stores_results_with_the_recorded_backend():
    assert isinstance(celery_app.backend, RecordedDatabaseBackend)


@pytest.mark.parametrize("finished", ["SUCCESS", "FAILURE", "REVOKED"])
def test_a_second_delivery_never_turns_a_finished_run_back_into_started(finished):
    task_id = str(uuid.uuid4())
    celery_app.backend.store_result(task_id, {"success": True}, finished)

    celery_app.backend.store_result(task_id, {"pid": 1, "hostname": "w2"}, "STARTED")

    assert TaskResult.objects.get(task_id=task_id).status == finished


def test_a_started_run_still_reports_progress():
    task_id = str(uuid.uuid4())
    celery_app.backend.store_result(task_id, {"pid": 1}, "STARTED")

    celery_app.backend.store_result(task_id, {"current": 2, "total": 6}, "STARTED")

    assert '"current": 2' in TaskResult.objects.get(task_id=task_id).result


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (OperationalError("server closed the connection"), True),
        (InterfaceError("closed"), True),
        (IntegrityError("dup"), False),
    ],
)
def test_only_a_lost_database_connection_is_worth_retrying(error, retried):
    assert celery_app.backend.exception_safe_to_retry(error) is retried
