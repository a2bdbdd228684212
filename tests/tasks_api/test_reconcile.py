"""The reconciler: every accepted launch ends in a true final state, whatever the broker lost."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.selectors.status import task_status_get
from tasks_api.services.claims import Claim, run_claim, run_release
from tasks_api.services.reconcile import runs_reconcile
from tests.factories import TaskLaunchFactory
from tests.runs import delivered, revoked, stored

pytestmark = pytest.mark.django_db(transaction=True)
QUEUE = settings.SII_ONDEMAND_QUEUE  # the factory's runs are users' launches


def minutes_ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def test_a_launch_recorded_but_never_published_is_published(quiet_broker):
    launch = TaskLaunchFactory(enqueued=None)
    TaskLaunch.objects.filter(pk=launch.pk).update(created_at=minutes_ago(2))

    assert runs_reconcile()["published"] == 1

    assert quiet_broker(QUEUE) == [launch.task_id]
    assert TaskLaunch.objects.get(pk=launch.pk).enqueued is True


def test_a_launch_just_recorded_is_left_to_the_process_publishing_it(quiet_broker):
    TaskLaunchFactory(enqueued=None)

    assert runs_reconcile()["published"] == 0
    assert quiet_broker(QUEUE) == []


def test_a_waiting_run_whose_message_the_broker_lost_is_published_again(quiet_broker):
    launch = TaskLaunchFactory(enqueued=True, published_at=minutes_ago(2))

    assert runs_reconcile()["republished"] == 1

    assert quiet_broker(QUEUE) == [launch.task_id]
    assert task_status_get(task_id=launch.task_id)["status"] == "PENDING"


def test_a_waiting_run_is_not_published_again_while_the_queues_hold_messages(quiet_broker):
    TaskLaunchFactory(enqueued=None)  # another launch, published now: the queue is not empty
    queued = TaskLaunchFactory(enqueued=None)
    TaskLaunch.objects.filter(pk=queued.pk).update(created_at=minutes_ago(2))
    runs_reconcile()
    waiting = TaskLaunchFactory(enqueued=True, published_at=minutes_ago(2))

    assert runs_reconcile()["republished"] == 0
    assert waiting.task_id not in quiet_broker(QUEUE)


def retrying(*, due_seconds_ago: float, published_minutes_ago: int = 10) -> TaskLaunch:
    """A run whose attempt scheduled a retry due `due_seconds_ago`; nothing delivered it since."""
    launch = TaskLaunchFactory(published_at=minutes_ago(published_minutes_ago))
    error = {"exc_type": "SiiUnavailable", "exc_message": ["HTTP 503"]}
    return delivered(launch, "RETRY", error, retry_when=timezone.now() - timedelta(seconds=due_seconds_ago))


def test_a_retry_not_delivered_a_minute_past_its_due_time_is_published_again_once(quiet_broker):
    launch = retrying(due_seconds_ago=61)

    assert runs_reconcile()["republished"] == 1
    assert runs_reconcile()["republished"] == 0  # once per retry: its publish is after its due time

    assert quiet_broker(QUEUE) == [launch.task_id]
    assert TaskLaunch.objects.get(pk=launch.pk).status == "RETRY"


def test_a_retry_published_again_and_still_not_delivered_is_published_again_half_an_hour_later(
    quiet_broker, settings
):
    launch = retrying(due_seconds_ago=3600)
    TaskLaunch.objects.filter(pk=launch.pk).update(published_at=minutes_ago(31))  # that copy was lost too

    assert runs_reconcile()["republished"] == 1

    assert quiet_broker(QUEUE) == [launch.task_id]


def test_a_started_run_its_worker_let_go_of_without_storing_its_end_runs_again(quiet_broker):
    # The database was away longer than the worker's write waited: the end was never stored.
    launch = TaskLaunchFactory(published_at=minutes_ago(10))
    delivered(launch, "STARTED", {"pid": 4242})
    TaskResult.objects.filter(task_id=launch.task_id).update(date_done=minutes_ago(2))

    assert runs_reconcile()["republished"] == 1
    assert runs_reconcile()["republished"] == 0  # published after its last stored state: once

    assert quiet_broker(QUEUE) == [launch.task_id]
    launch.refresh_from_db()
    assert (launch.status, launch.lost_deliveries) == ("STARTED", 0)  # no worker died


def test_a_started_run_a_worker_let_go_of_moments_ago_is_left_to_store_its_end(quiet_broker):
    launch = TaskLaunchFactory(published_at=minutes_ago(10))
    delivered(launch, "STARTED", {"pid": 4242})

    assert runs_reconcile()["republished"] == 0


def test_a_retry_within_its_grace_is_left_to_its_own_message(quiet_broker):
    retrying(due_seconds_ago=30)

    assert runs_reconcile()["republished"] == 0
    assert quiet_broker(QUEUE) == []


def test_a_retry_due_in_the_future_is_left_alone_however_long_ago_it_was_scheduled(quiet_broker):
    retrying(due_seconds_ago=-600, published_minutes_ago=60)

    assert runs_reconcile()["republished"] == 0


def test_a_revoked_or_finished_run_is_never_published_again(quiet_broker):
    revoked(TaskLaunchFactory(enqueued=True, published_at=minutes_ago(60)))
    stored(TaskLaunchFactory(enqueued=True, published_at=minutes_ago(60)), "SUCCESS", {"success": True})

    assert runs_reconcile() == {"published": 0, "republished": 0, "orphans": 0, "adopted": 0}


def test_a_started_run_whose_worker_died_is_delivered_again_and_says_so(quiet_broker):
    launch = TaskLaunchFactory(
        claimed_by="gone-host:4242", claimed_at=minutes_ago(2), published_at=minutes_ago(3)
    )
    stored(launch, "STARTED", {"pid": 4242})

    assert runs_reconcile()["orphans"] == 1

    status = task_status_get(task_id=launch.task_id)
    assert status["status"] == "RETRY"
    assert "died (gone-host:4242); delivered again (1 of 3)" in status["meta"]["last_error"]
    assert quiet_broker(QUEUE) == [launch.task_id]
    assert TaskLaunch.objects.get(pk=launch.pk).lost_deliveries == 1


def test_a_run_lost_to_dying_workers_too_often_fails_with_a_message_that_says_so(quiet_broker):
    launch = TaskLaunchFactory(claimed_by="gone-host:4242", claimed_at=minutes_ago(2), lost_deliveries=2)
    stored(launch, "STARTED", {"pid": 4242})

    runs_reconcile()

    status = task_status_get(task_id=launch.task_id)
    assert (status["status"], status["error"]) == (
        "FAILURE",
        "The worker running this task died 3 times; it is not tried again",
    )
    assert quiet_broker(QUEUE) == []


def test_a_started_run_a_live_process_holds_is_left_alone(quiet_broker):
    launch = TaskLaunchFactory()
    stored(launch, "STARTED", {"pid": 1})
    holding, done = threading.Event(), threading.Event()
    claimed: list[Claim] = []

    def hold() -> None:
        claimed.append(run_claim(task_id=launch.task_id, max_lost=3, worker="celery@test-host"))
        TaskLaunch.objects.filter(pk=launch.pk).update(claimed_at=minutes_ago(2))
        holding.set()
        done.wait(10)
        run_release(task_id=launch.task_id)
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    try:
        assert claimed == [Claim.CLAIMED]
        assert runs_reconcile()["orphans"] == 0
    finally:
        done.set()
        thread.join()
    assert TaskResult.objects.get(task_id=launch.task_id).status == "STARTED"
