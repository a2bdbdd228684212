"""GET /api/celery/tasks/{id}?wait=N: answers when the run finishes (a Redis notification wakes the
request) or after N seconds, holding no database connection and reading the status only twice."""

import threading
import time
import uuid

import pytest
import redis
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from tasks_api.runs import notifications
from tasks_api.selectors import waiting
from tasks_api.services.revocations import task_revoke
from tests.factories import CompanyFactory, TaskLaunchFactory, UserFactory
from tests.processes import free_port
from tests.runs import stored
from tests.tasks_api.conftest import client_for

pytestmark = pytest.mark.django_db


def status_of(client, task_id, query=""):
    response = client.get(f"/api/celery/tasks/{task_id}{query}")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Every status read a waiting request makes, in order."""
    seen: list[str] = []
    original = waiting.task_status_get

    def counted(*, task_id):
        answer = original(task_id=task_id)
        seen.append(answer["status"])
        return answer

    monkeypatch.setattr(waiting, "task_status_get", counted)
    return seen


@pytest.fixture
def no_sleeping(monkeypatch):
    """A request that must answer at once: any wait on Redis or on the clock fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the request waited")

    monkeypatch.setattr(notifications.FinishListener, "wait", refuse)
    monkeypatch.setattr(waiting, "sleep", refuse)


@pytest.fixture
def when_released(monkeypatch):
    """Run a callback in another thread once the waiting request has released its connection
    (so after its first read): what finishes the run while the request sleeps."""
    actions = []
    released = waiting.connection_release

    def release_then_act():
        released()
        while actions:
            thread = threading.Thread(target=actions.pop())
            thread.start()
            thread.join()  # the run is finished before the request goes to sleep: a notification
            # published before the sleep must still wake it (it is queued on the subscription)

    monkeypatch.setattr(waiting, "connection_release", release_then_act)
    return actions.append


def finish(task_id: str, status: str = "SUCCESS"):
    """What a worker does at the end of a run, in its own connection (and commit)."""

    def act():
        celery_app.backend.store_result(task_id, {"success": True}, status)
        connection.close()

    return act


@pytest.mark.parametrize("wait", ["31", "-1", "1.5", "soon", ""])
def test_a_wait_outside_0_to_30_whole_seconds_answers_400_naming_it(viewer_api, wait):
    response = viewer_api.get(f"/api/celery/tasks/{TaskLaunchFactory().task_id}?wait={wait}")

    assert response.status_code == 400
    assert response.json() == {"detail": "wait must be a whole number of seconds from 0 to 30"}


def test_without_wait_or_with_wait_0_the_answer_is_the_one_pollers_always_got(viewer_api, no_sleeping):
    launch = TaskLaunchFactory()

    assert status_of(viewer_api, launch.task_id, "?wait=0") == status_of(viewer_api, launch.task_id)
    assert status_of(viewer_api, launch.task_id)["status"] == "PENDING"


@pytest.mark.parametrize("finished", ["SUCCESS", "FAILURE", "REVOKED"])
def test_a_finished_run_answers_at_once_with_one_read(viewer_api, no_sleeping, reads, finished):
    launch = TaskLaunchFactory()
    stored(launch, finished, {"success": True})

    assert status_of(viewer_api, launch.task_id, "?wait=30")["status"] == finished
    assert reads == [finished]


@pytest.mark.parametrize("task_id", ["non-existent-id", "x" * 300, "bad\x01id"])
def test_an_id_nobody_launched_answers_at_once_since_nothing_can_finish_it(viewer_api, no_sleeping, task_id):
    body = status_of(viewer_api, task_id, "?wait=30")

    assert (body["status"], body["unknown"]) == ("PENDING", True)


def test_a_wait_that_runs_out_reads_the_status_twice_and_never_polls(viewer_api, reads):
    launch = TaskLaunchFactory()

    body = status_of(viewer_api, launch.task_id, "?wait=1")

    assert body["status"] == "PENDING"
    assert reads == ["PENDING", "PENDING"]


@pytest.mark.django_db(transaction=True)
def test_a_run_finishing_during_the_wait_wakes_the_request_which_holds_no_connection_meanwhile(
    monkeypatch, reads, when_released
):
    monkeypatch.setattr(waiting, "CONNECTION_HOLD_SECONDS", 0)  # released before it sleeps
    launch = TaskLaunchFactory()
    client = client_for(UserFactory(is_superuser=True))
    open_while_waiting = []
    listener_wait = notifications.FinishListener.wait

    def wait_and_check(self, *, timeout):
        if timeout > 0:  # a sleep, not the look at what is already queued
            open_while_waiting.append(connection.connection is not None)
        return listener_wait(self, timeout=timeout)

    monkeypatch.setattr(notifications.FinishListener, "wait", wait_and_check)
    when_released(finish(launch.task_id))
    started = time.monotonic()

    body = status_of(client, launch.task_id, "?wait=20")

    assert body["status"] == "SUCCESS"
    assert time.monotonic() - started < 20  # woken by the notification, not by the deadline
    assert reads == ["PENDING", "SUCCESS"]
    assert open_while_waiting == [False]


@pytest.mark.django_db(transaction=True)
def test_a_run_finishing_within_the_first_second_is_answered_on_the_connection_kept_meanwhile(
    monkeypatch, reads
):
    launch = TaskLaunchFactory()
    client = client_for(UserFactory(is_superuser=True))
    released = []
    monkeypatch.setattr(waiting, "connection_release", lambda: released.append(True))
    listener_wait = notifications.FinishListener.wait

    def wait_while_it_finishes(self, *, timeout):
        threading.Timer(0.2, finish(launch.task_id)).start()  # finishes while the request sleeps
        return listener_wait(self, timeout=timeout)

    monkeypatch.setattr(notifications.FinishListener, "wait", wait_while_it_finishes)

    body = status_of(client, launch.task_id, "?wait=20")

    assert (body["status"], reads, released) == ("SUCCESS", ["PENDING", "SUCCESS"], [])


@pytest.mark.django_db(transaction=True)
def test_a_revoke_wakes_a_request_waiting_for_a_pending_run(when_released):
    launch = TaskLaunchFactory()
    client = client_for(UserFactory(is_superuser=True))

    def revoke():
        task_revoke(task_id=launch.task_id)
        connection.close()

    when_released(revoke)
    started = time.monotonic()

    assert status_of(client, launch.task_id, "?wait=20")["status"] == "REVOKED"
    assert time.monotonic() - started < 20


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("redis_url", ["", "unreachable"])
def test_without_redis_the_wait_checks_every_few_seconds_closing_the_connection_between_checks(
    settings, monkeypatch, reads, when_released, redis_url
):
    settings.TASKS_API_NOTIFY_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0" if redis_url else ""
    settings.TASKS_API_WAIT_CHECK_SECONDS = 0.1
    launch = TaskLaunchFactory()
    client = client_for(UserFactory(is_superuser=True))
    closed_between_checks = []
    monkeypatch.setattr(
        waiting, "sleep", lambda s: closed_between_checks.append(connection.connection is None)
    )
    when_released(finish(launch.task_id, "FAILURE"))

    body = status_of(client, launch.task_id, "?wait=20")

    assert body["status"] == "FAILURE"
    assert reads == ["PENDING", "FAILURE"]
    assert closed_between_checks == [True]


def test_finished_states_are_announced_after_commit_and_progress_is_not(django_capture_on_commit_callbacks):
    task_id = str(uuid.uuid4())
    listener = redis.Redis.from_url(celery_app.conf.broker_url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(notifications.finished_channel(task_id))
    listener.get_message(timeout=2)

    with django_capture_on_commit_callbacks(execute=True):
        celery_app.backend.store_result(task_id, {"current": 1}, "STARTED")
    assert listener.get_message(timeout=0.5) is None
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        celery_app.backend.store_result(task_id, {"success": True}, "SUCCESS")
    assert listener.get_message(timeout=0.5) is None  # not before the commit
    for callback in callbacks:
        callback()

    assert listener.get_message(timeout=2)["data"] == b"finished"
    listener.close()


def test_waiting_requests_are_never_throttled_nor_counted_with_launches(api, operator, settings):
    settings.TASKS_API_LAUNCH_RATE = "1/min"
    counts = caches[settings.TASKS_API_THROTTLE_CACHE]
    minute = int(time.time() // 60)
    keys = [f"throttle_launch_{operator.pk}:{period}" for period in range(minute - 1, minute + 2)]
    counts.delete_many(keys)  # counts left by an earlier session's user with the same id
    launch = TaskLaunchFactory()
    stored(launch, "SUCCESS", {"success": True})
    assert api.post("/api/celery/tasks/launch", {"task_type": "nope"}, format="json").status_code == 422

    polls = [api.get(f"/api/celery/tasks/{launch.task_id}?wait=5").status_code for _ in range(5)]

    assert polls == [200] * 5
    assert sum(counts.get_many(keys).values()) == 1


@pytest.mark.e2e
@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_with_a_real_worker_the_answer_comes_when_the_run_finishes_well_before_the_wait(
    celery_worker_process, live_simulator
):
    company = CompanyFactory(subscribed=True)
    client = client_for(UserFactory(is_superuser=True))
    body = {"task_type": "sii.sync_f29", "params": {"company_id": str(company.pk)}}
    task_id = client.post("/api/celery/tasks/launch", body, format="json").json()["task_id"]
    started = time.monotonic()

    answer = status_of(client, task_id, "?wait=30")

    answered = timezone.now()
    assert answer["status"] == "SUCCESS", answer
    assert time.monotonic() - started < 25  # the run's own seconds, not the 30 of the wait
    finished = TaskResult.objects.get(task_id=task_id).date_done
    assert finished <= answered
