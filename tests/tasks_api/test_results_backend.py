"""The result backend: a finished state is final, and a lost database connection is retried."""

import uuid

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from tasks_api.models import TaskLaunch
from tasks_api.worker.results import RecordedDatabaseBackend
from tests.factories import TaskLaunchFactory

pytestmark = pytest.mark.django_db


def test_the_app_stores_results_with_the_recorded_backend():
    assert isinstance(celery_app.backend, RecordedDatabaseBackend)


@pytest.mark.parametrize("finished", ["SUCCESS", "FAILURE", "REVOKED"])
def test_a_second_delivery_never_turns_a_finished_run_back_into_started(finished):
    launch = TaskLaunchFactory()
    celery_app.backend.store_result(launch.task_id, {"success": True}, finished)

    celery_app.backend.store_result(launch.task_id, {"pid": 1, "hostname": "w2"}, "STARTED")

    assert TaskResult.objects.get(task_id=launch.task_id).status == finished
    assert TaskLaunch.objects.get(pk=launch.pk).status == finished


@pytest.mark.parametrize("finished", ["SUCCESS", "FAILURE", "REVOKED"])
def test_a_late_finish_never_replaces_the_first_in_the_run_or_its_result(finished):
    launch = TaskLaunchFactory()
    celery_app.backend.store_result(launch.task_id, {"success": True}, finished)
    late = "FAILURE" if finished == "SUCCESS" else "SUCCESS"

    celery_app.backend.store_result(launch.task_id, {"success": True}, late)

    assert TaskResult.objects.get(task_id=launch.task_id).status == finished
    assert TaskLaunch.objects.get(pk=launch.pk).status == finished


def test_a_run_published_by_hand_keeps_its_finished_result_too():
    task_id = str(uuid.uuid4())
    celery_app.backend.store_result(task_id, {"success": True}, "SUCCESS")

    celery_app.backend.store_result(task_id, {"pid": 1, "hostname": "w2"}, "STARTED")

    assert TaskResult.objects.get(task_id=task_id).status == "SUCCESS"


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
