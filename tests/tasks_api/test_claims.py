"""Claims: a run runs in one live process at a time, never after it finished, and gives up when
its workers keep dying."""

import os
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tasks_api.models import RunAttempt, TaskLaunch
from tasks_api.services.claims import Claim, run_claim, run_is_held, run_release
from tests.factories import TaskLaunchFactory
from tests.runs import revoked, stored

pytestmark = pytest.mark.django_db(transaction=True)  # other threads are other processes' connections


def in_another_process(action):
    """Run `action` on another database connection (a thread), as another worker would."""
    outcome = []

    def run() -> None:
        try:
            outcome.append(action())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome[0]


def claim(launch, max_lost=3) -> Claim:
    return run_claim(task_id=launch.task_id, max_lost=max_lost, worker="celery@test-host")


def test_a_run_claimed_by_a_live_process_is_not_claimed_by_another():
    launch = TaskLaunchFactory()

    assert claim(launch) is Claim.CLAIMED
    assert in_another_process(lambda: claim(launch)) is Claim.RUNNING_ELSEWHERE
    run_release(task_id=launch.task_id)

    assert (
        in_another_process(lambda: (claim(launch), run_release(task_id=launch.task_id))[0]) is Claim.CLAIMED
    )
    assert TaskLaunch.objects.get(pk=launch.pk).deliveries == 2


def test_a_finished_run_is_never_claimed_again():
    launch = TaskLaunchFactory()
    stored(launch, "SUCCESS", {"success": True})

    assert claim(launch) is Claim.FINISHED


def test_a_claim_left_by_a_process_that_died_counts_as_a_lost_delivery():
    launch = TaskLaunchFactory(claimed_by="gone-host:4242", claimed_at=timezone.now())

    assert claim(launch) is Claim.CLAIMED

    launch.refresh_from_db()
    assert (launch.lost_deliveries, launch.deliveries, launch.claimed_by != "gone-host:4242") == (1, 1, True)
    run_release(task_id=launch.task_id)


def test_a_retry_stored_after_the_claim_could_not_be_released_is_not_a_lost_delivery():
    # The database was away longer than the release waited, then back for the RETRY's store.
    launch = TaskLaunchFactory()
    in_another_process(lambda: claim(launch))  # its connection, and advisory lock, are gone
    stored(launch, "RETRY", {"exc_type": "OperationalError", "exc_message": ["server closed"]})

    assert claim(launch) is Claim.CLAIMED  # the retry's delivery

    launch.refresh_from_db()
    assert (launch.lost_deliveries, launch.deliveries) == (0, 2)
    assert list(RunAttempt.objects.filter(run=launch).values_list("outcome", flat=True)) == [
        "retry",
        "running",
    ]
    run_release(task_id=launch.task_id)


def test_a_state_stored_late_never_clears_the_claim_of_a_delivery_that_began_since():
    launch = TaskLaunchFactory(claimed_by="other-host:4242", claimed_at=timezone.now())  # the new delivery

    stored(launch, "RETRY", {"exc_type": "OperationalError", "exc_message": ["server closed"]})

    assert TaskLaunch.objects.get(pk=launch.pk).claimed_by == "other-host:4242"


def test_each_claim_opens_an_attempt_and_ends_the_one_its_dead_worker_left_open_as_lost():
    launch = TaskLaunchFactory()
    assert claim(launch) is Claim.CLAIMED
    TaskLaunch.objects.filter(pk=launch.pk).update(claimed_by="gone-host:4242")  # its process died
    run_release(task_id=launch.task_id)

    assert (
        in_another_process(lambda: (claim(launch), run_release(task_id=launch.task_id))[0]) is Claim.CLAIMED
    )

    first, second = RunAttempt.objects.filter(run=launch)
    assert (first.number, first.outcome, first.error_type) == (1, "lost", "WorkerLost")
    assert first.ended_at is not None
    assert (second.number, second.outcome, second.ended_at) == (2, "running", None)
    assert (second.worker, second.pid) == ("celery@test-host", os.getpid())


def test_after_the_limit_of_lost_deliveries_the_run_gives_up_without_opening_an_attempt():
    launch = TaskLaunchFactory(
        claimed_by="gone-host:4242", claimed_at=timezone.now(), lost_deliveries=2, deliveries=3
    )
    RunAttempt.objects.create(run=launch, number=3, worker="gone", pid=4242, started_at=timezone.now())

    assert claim(launch, max_lost=3) is Claim.EXHAUSTED

    launch.refresh_from_db()
    assert (launch.lost_deliveries, launch.deliveries, launch.claimed_by) == (3, 3, "")
    assert list(launch.attempts.values_list("number", "outcome")) == [(3, "lost")]
    assert not run_is_held(launch=launch)


def test_the_reconciler_sees_whether_a_live_process_holds_a_run():
    launch = TaskLaunchFactory()
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        claim(launch)
        holding.set()
        done.wait(10)
        run_release(task_id=launch.task_id)

    thread = threading.Thread(target=lambda: (hold(), connection.close()))
    thread.start()
    holding.wait(10)
    held_while_running = run_is_held(launch=TaskLaunch.objects.get(pk=launch.pk))
    done.set()
    thread.join()

    assert held_while_running
    assert not run_is_held(launch=TaskLaunch.objects.get(pk=launch.pk))


def test_a_run_revoked_before_it_started_is_claimed_as_revoked_so_the_worker_stops_it():
    launch = revoked(TaskLaunchFactory(status="STARTED"))

    assert claim(launch) is Claim.REVOKED
    assert in_another_process(lambda: claim(launch)) is Claim.RUNNING_ELSEWHERE  # the claim holds
    run_release(task_id=launch.task_id)


def test_a_child_whose_fan_out_parent_was_revoked_is_claimed_as_revoked_before_it_is_marked():
    # The revoke commits the parent's revocation, then the children's: in between, none runs.
    parent = TaskLaunchFactory(task_type="sii.sync_documents_all_companies", params={})
    child = TaskLaunchFactory(parent=parent, launched_by="fanout")
    child_of_another = TaskLaunchFactory(parent=TaskLaunchFactory(task_type=parent.task_type, params={}))
    TaskLaunch.objects.filter(pk=parent.pk).update(revoke_requested_at=timezone.now())

    assert claim(child) is Claim.REVOKED
    assert claim(child_of_another) is Claim.CLAIMED
    run_release(task_id=child.task_id)
    run_release(task_id=child_of_another.task_id)


def test_a_run_with_no_launch_record_is_claimed_without_counting_anything():
    assert run_claim(task_id="published-by-hand", max_lost=3, worker="w") is Claim.CLAIMED
    run_release(task_id="published-by-hand")

    assert (
        in_another_process(lambda: run_claim(task_id="published-by-hand", max_lost=3, worker="w"))
        is Claim.CLAIMED
    )
