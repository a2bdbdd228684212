"""The result backend: a finished state is final, and a database outage is waited through, by time."""

import uuid

import pytest
from celery.exceptions import BackendStoreError
from django.db import IntegrityError, InterfaceError, OperationalError
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from tasks_api.models import TaskLaunch
from tasks_api.worker.results import RecordedDatabaseBackend
from tests.factories import TaskLaunchFactory


@pytest.mark.django_db
def test_the_app_stores_results_with_the_recorded_backend():
    assert isinstance(celery_app.backend, RecordedDatabaseBackend)


@pytest.mark.parametrize("finished", ["SUCCESS", "FAILURE", "REVOKED"])
@pytest.mark.django_db
def test_a_second_delivery_never_turns_a_finished_run_back_into_started(finished):
    launch = TaskLaunchFactory()
    celery_app.backend.store_result(launch.task_id, {"success": True}, finished)

    celery_app.backend.store_result(launch.task_id, {"pid": 1, "hostname": "w2"}, "STARTED")

    assert TaskResult.objects.get(task_id=launch.task_id).status == finished
    assert TaskLaunch.objects.get(pk=launch.pk).status == finished


@pytest.mark.parametrize("finished", ["SUCCESS", "FAILURE", "REVOKED"])
@pytest.mark.django_db
def test_a_late_finish_never_replaces_the_first_in_the_run_or_its_result(finished):
    launch = TaskLaunchFactory()
    celery_app.backend.store_result(launch.task_id, {"success": True}, finished)
    late = "FAILURE" if finished == "SUCCESS" else "SUCCESS"

    celery_app.backend.store_result(launch.task_id, {"success": True}, late)

    assert TaskResult.objects.get(task_id=launch.task_id).status == finished
    assert TaskLaunch.objects.get(pk=launch.pk).status == finished


@pytest.mark.django_db
def test_a_run_published_by_hand_keeps_its_finished_result_too():
    task_id = str(uuid.uuid4())
    celery_app.backend.store_result(task_id, {"success": True}, "SUCCESS")

    celery_app.backend.store_result(task_id, {"pid": 1, "hostname": "w2"}, "STARTED")

    assert TaskResult.objects.get(task_id=task_id).status == "SUCCESS"


@pytest.mark.django_db
def test_a_started_run_still_reports_progress():
    task_id = str(uuid.uuid4())
    celery_app.backend.store_result(task_id, {"pid": 1}, "STARTED")

    celery_app.backend.store_result(task_id, {"current": 2, "total": 6}, "STARTED")

    assert '"current": 2' in TaskResult.objects.get(task_id=task_id).result


class Clock:
    """The outage waits' clock: a sleep moves it on instead of passing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("tasks_api.outages.time", clock)
    monkeypatch.setattr("tasks_api.outages.random.uniform", lambda low, high: (low + high) / 2)  # no jitter
    return clock


def failing(times: int, error: Exception):
    """A write that meets `error` `times` times, then succeeds; how often it was called."""
    calls = []

    def write(*args, **kwargs):
        calls.append(args)
        if len(calls) <= times:
            raise error
        return "stored"

    return write, calls


@pytest.mark.parametrize(
    "error", [OperationalError("server closed the connection"), InterfaceError("closed")]
)
def test_a_result_write_waits_through_an_outage_of_four_minutes_with_growing_pauses(settings, clock, error):
    settings.TASKS_API_DATABASE_WAIT_SECONDS = 300
    write, calls = failing(40, error)  # Celery's own loop gave up after 20 attempts (44 s)

    assert celery_app.backend._ensure_retryable(write, "task-1") == "stored"

    assert len(calls) == 41
    assert clock.now == pytest.approx(1000 + 274.125)  # paused 0.375, 0.75, 1.5, 3, 6, then 7.5 s


def test_a_result_write_gives_up_once_the_outage_outlasts_its_wait(settings, clock):
    settings.TASKS_API_DATABASE_WAIT_SECONDS = 60
    write, calls = failing(1000, OperationalError("the database system is shutting down"))

    with pytest.raises(BackendStoreError):
        celery_app.backend._ensure_retryable(
            write, "task-1", fallback_exc=BackendStoreError, fallback_msg="not stored"
        )

    assert clock.now == pytest.approx(1060)  # the last pause ends at the deadline
    assert len(calls) == 13  # five growing pauses, then 7.5 s ones; the last one cut short


def test_a_caller_s_own_short_budget_is_kept_so_the_worker_s_main_process_never_waits_minutes(clock):
    write, calls = failing(1000, OperationalError("the database system is shutting down"))

    with pytest.raises(OperationalError):
        celery_app.backend._ensure_retryable(write, "task-1", max_retries=3)

    assert len(calls) == 4
    assert clock.now == 1000.0  # Celery's own pauses (milliseconds), not this clock's


def test_an_error_that_is_not_an_outage_is_raised_at_once(clock):
    write, calls = failing(1, IntegrityError("duplicate key"))

    with pytest.raises(IntegrityError):
        celery_app.backend._ensure_retryable(write, "task-1")

    assert (len(calls), clock.now) == (1, 1000.0)


@pytest.mark.django_db
def test_a_state_not_stored_for_an_outage_never_becomes_a_failure():
    launch = TaskLaunchFactory()
    celery_app.backend.store_result(launch.task_id, {"pid": 1}, "STARTED")

    celery_app.backend.mark_as_failure(
        launch.task_id, BackendStoreError("failed to store result on the backend")
    )

    assert TaskResult.objects.get(task_id=launch.task_id).status == "STARTED"
    assert TaskLaunch.objects.get(pk=launch.pk).status == "STARTED"


@pytest.mark.django_db
def test_a_task_s_own_failure_is_stored():
    launch = TaskLaunchFactory()

    celery_app.backend.mark_as_failure(launch.task_id, ValueError("bad period"))

    assert TaskLaunch.objects.get(pk=launch.pk).status == "FAILURE"
