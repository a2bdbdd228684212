"""The per-company sync lock on the database (one holder at a time, expiry, release) and its waits."""

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.db import OperationalError, connection
from django.utils import timezone

from sii.client.errors import SiiUnavailable
from sii.models import Company
from sii.selectors import CompanyNotFound
from sii.services.locks import (
    CompanySyncBusy,
    _take_over,
    company_sync_lock,
    company_sync_lock_ttl,
    company_sync_wait_countdown,
    company_sync_wait_limit,
)
from sii.tasks import LOCK_WAITING_SINCE_HEADER, LOCK_WAITS_HEADER, sync_documents
from tasks_api.models import TaskLaunch
from tasks_api.worker.tasks import OUTAGE_SINCE_HEADER, OUTAGES_HEADER, DatabaseUnavailable
from tests.factories import CompanyFactory, TaskLaunchFactory
from tests.processes import wait_for
from tests.runs import running_here

pytestmark = pytest.mark.django_db


def lock_of(company) -> tuple[str, object]:
    return Company.objects.filter(pk=company.pk).values_list("sync_lock_holder", "sync_lock_expires_at").get()


def held_by(company, holder: str, *, expires_in: timedelta) -> None:
    Company.objects.filter(pk=company.pk).update(
        sync_lock_holder=holder, sync_lock_expires_at=timezone.now() + expires_in
    )


def test_a_free_company_is_locked_by_its_holder_until_the_sync_ends():
    company = CompanyFactory()

    with company_sync_lock(company=company, holder="task-a"):
        holder, expires_at = lock_of(company)
        assert holder == "task-a"
        assert expires_at > timezone.now()

    assert lock_of(company) == ("", None)


def test_a_second_holder_is_refused_while_the_first_holds_the_lock():
    company = CompanyFactory()

    with running_here("task-a"), company_sync_lock(company=company, holder="task-a"):
        busy = r"another sync of this company is running \(task task-a\)"
        with pytest.raises(CompanySyncBusy, match=busy), company_sync_lock(company=company, holder="task-b"):
            pytest.fail("task-b ran while task-a held the lock")
        assert lock_of(company)[0] == "task-a"  # the refused holder released nothing

    assert lock_of(company) == ("", None)


def test_the_holder_may_take_its_lock_again_as_a_redelivered_task_does():
    company = CompanyFactory()
    held_by(company, "task-a", expires_in=timedelta(minutes=5))

    with company_sync_lock(company=company, holder="task-a"):
        assert lock_of(company)[0] == "task-a"

    assert lock_of(company) == ("", None)


def test_an_expired_lock_is_taken_over_by_the_next_sync():
    company = CompanyFactory()
    held_by(company, "killed-task", expires_in=timedelta(seconds=-1))

    with company_sync_lock(company=company, holder="task-b"):
        assert lock_of(company)[0] == "task-b"


def test_a_lock_whose_run_is_live_is_refused_until_it_expires():
    company = CompanyFactory()
    held_by(company, "live-task", expires_in=timedelta(minutes=5))

    busy = pytest.raises(CompanySyncBusy, match=r"\(task live-task\)")
    with running_here("live-task"), busy, company_sync_lock(company=company, holder="task-b"):
        pytest.fail("task-b ran while live-task held the lock")

    assert lock_of(company)[0] == "live-task"


def test_a_lock_whose_worker_died_is_taken_over_at_once_long_before_it_expires():
    company = CompanyFactory()
    # STARTED, claimed by a process that no longer holds the claim (its connection died with it).
    dead = TaskLaunchFactory(status="STARTED", claimed_by="gone-host:4242", claimed_at=timezone.now())
    held_by(company, dead.task_id, expires_in=timedelta(minutes=10))

    with company_sync_lock(company=company, holder="task-b"):
        assert lock_of(company)[0] == "task-b"

    assert lock_of(company) == ("", None)


def test_a_dead_run_s_lock_its_redelivery_took_again_is_not_taken_over_as_read_before():
    company = CompanyFactory()
    dead = TaskLaunchFactory(status="STARTED", claimed_by="gone-host:4242", claimed_at=timezone.now())
    held_by(company, dead.task_id, expires_in=timedelta(minutes=10))
    as_read = lock_of(company)
    held_by(company, dead.task_id, expires_in=timedelta(minutes=11))  # the redelivery's _take

    assert _take_over(company.pk, "task-b", lock=as_read) is False

    assert lock_of(company)[0] == dead.task_id


@pytest.mark.parametrize("status", ["SUCCESS", "FAILURE", "REVOKED", "RETRY"])
def test_a_lock_whose_run_ended_or_waits_for_a_retry_is_taken_over_at_once(status):
    company = CompanyFactory()
    ended = TaskLaunchFactory(status=status)
    held_by(company, ended.task_id, expires_in=timedelta(minutes=10))

    with company_sync_lock(company=company, holder="task-b"):
        assert lock_of(company)[0] == "task-b"

    assert TaskLaunch.objects.filter(status=status).count() == 1


def test_a_lock_held_for_a_run_published_by_hand_is_refused_while_its_claim_is_held():
    # No launch record: the claim alone says the run is live.
    company = CompanyFactory()
    held_by(company, "plain-task", expires_in=timedelta(minutes=10))

    busy = pytest.raises(CompanySyncBusy)
    with running_here("plain-task"), busy, company_sync_lock(company=company, holder="task-b"):
        pytest.fail("task-b took a live run's lock")


def test_a_lock_lasts_the_hard_time_limit_plus_a_margin(settings):
    settings.SII_SYNC_TIME_LIMIT = 660
    company = CompanyFactory()
    before = timezone.now()

    with company_sync_lock(company=company, holder="task-a"):
        expires_at = lock_of(company)[1]

    assert company_sync_lock_ttl() > timedelta(seconds=660)
    assert before + company_sync_lock_ttl() <= expires_at <= timezone.now() + company_sync_lock_ttl()


def test_the_lock_is_released_when_the_sync_fails():
    company = CompanyFactory()

    with pytest.raises(RuntimeError), company_sync_lock(company=company, holder="task-a"):
        raise RuntimeError("the SII went away")

    assert lock_of(company) == ("", None)


def test_an_expired_holder_never_releases_the_lock_another_sync_took_over():
    company = CompanyFactory()

    with company_sync_lock(company=company, holder="slow-task"):
        held_by(company, "next-task", expires_in=timedelta(minutes=5))  # slow-task's lock expired

    assert lock_of(company)[0] == "next-task"


def test_two_companies_are_locked_independently():
    first, second = CompanyFactory(), CompanyFactory()

    with (
        company_sync_lock(company=first, holder="task-a"),
        company_sync_lock(company=second, holder="task-b"),
    ):
        assert lock_of(first)[0] == "task-a"
        assert lock_of(second)[0] == "task-b"


def test_locking_a_deleted_company_is_company_not_found():
    company = CompanyFactory()
    Company.objects.filter(pk=company.pk).delete()

    with pytest.raises(CompanyNotFound), company_sync_lock(company=company, holder="task-a"):
        pytest.fail("locked a company that does not exist")


@pytest.mark.django_db(transaction=True)
def test_of_many_syncs_racing_for_one_company_exactly_one_gets_it():
    company = CompanyFactory()
    racers = 8
    start, winners, busy = threading.Barrier(racers), [], []
    release = threading.Event()

    def race(holder: str) -> None:
        try:
            start.wait()
            with running_here(holder), company_sync_lock(company=company, holder=holder):
                winners.append(holder)
                release.wait(timeout=10)
        except CompanySyncBusy:
            busy.append(holder)
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=race, args=(f"task-{n}",)) for n in range(racers)]
    for thread in threads:
        thread.start()
    # Everyone but the winner is refused while the winner still holds the lock.
    wait_for(lambda: len(winners) + len(busy) == racers, timeout=10, what="every racer's answer")
    release.set()
    for thread in threads:
        thread.join(timeout=10)

    assert len(winners) == 1
    assert len(busy) == racers - 1
    assert lock_of(company) == ("", None)


def test_a_waiting_sync_comes_back_after_jittered_waits_that_grow_to_fifteen_seconds():
    for waits, ceiling in [(0, 2), (1, 4), (2, 8), (3, 15), (40, 15)]:
        countdowns = {company_sync_wait_countdown(waits=waits) for _ in range(20)}
        assert all(ceiling / 2 <= countdown <= ceiling for countdown in countdowns)
        assert len(countdowns) > 1  # jittered


def test_a_sync_waits_for_its_company_at_most_two_lock_lifetimes():
    assert company_sync_wait_limit() == 2 * company_sync_lock_ttl().total_seconds()


# The sync tasks: waiting for the lock and transient SII errors, each on its own budget


@contextmanager
def running(task, *, retries: int = 0, headers: dict | None = None):
    """As if a worker ran `task` at its `retries`-th retry, with these message headers."""
    task.push_request(id="task-1", retries=retries, headers=headers)
    try:
        yield task
    finally:
        task.pop_request()


@pytest.fixture
def retries_published(monkeypatch) -> list[dict]:
    """The options each retry would be published with (Celery's own retry is not called)."""
    published: list[dict] = []
    task_class = sync_documents.__class__  # sync_documents' own class: no other task is touched
    monkeypatch.setattr(task_class, "retry", lambda self, **options: published.append(options) or Retry())
    return published


def test_a_busy_company_retries_soon_without_using_the_transient_budget(retries_published):
    since = time.time() - 5
    headers = {"launch_recorded": True, LOCK_WAITS_HEADER: 1, LOCK_WAITING_SINCE_HEADER: since}

    with running(sync_documents, retries=2, headers=headers) as task:
        task._retry_when_free(CompanySyncBusy("another sync of this company is running (task x)"))

    [options] = retries_published
    assert 2 <= options["countdown"] <= 4  # the second wait
    assert options["max_retries"] == 3  # this retry is always allowed
    assert options["headers"] == {
        "launch_recorded": True,
        LOCK_WAITS_HEADER: 2,
        LOCK_WAITING_SINCE_HEADER: since,
    }


def test_a_transient_error_after_waiting_for_the_company_keeps_its_whole_budget(settings, retries_published):
    settings.SII_MAX_RETRIES = 3

    with running(sync_documents, retries=4, headers={LOCK_WAITS_HEADER: 4}) as task:
        task._retry_transient(SiiUnavailable("getResumen: HTTP 503 from the SII."))

    [options] = retries_published
    assert options["max_retries"] == 3 + 4  # Celery counts the waits too; they are added back


def test_a_transient_error_after_database_outages_keeps_its_whole_budget(settings, retries_published):
    settings.SII_MAX_RETRIES = 3

    with running(sync_documents, retries=5, headers={LOCK_WAITS_HEADER: 1, OUTAGES_HEADER: 4}) as task:
        task._retry_transient(SiiUnavailable("getResumen: HTTP 503 from the SII."))

    [options] = retries_published
    assert options["max_retries"] == 3 + 1 + 4


def test_an_outage_met_after_the_database_answered_again_starts_its_own_wait(retries_published):
    long_ago = time.time() - 2 * 3600
    headers = {OUTAGES_HEADER: 1, OUTAGE_SINCE_HEADER: long_ago}

    with running(sync_documents, retries=1, headers=headers) as task:
        task._retry_after_outage(OperationalError("server closed the connection"), new_outage=True)

    [options] = retries_published
    assert options["headers"][OUTAGES_HEADER] == 2
    assert options["headers"][OUTAGE_SINCE_HEADER] > long_ago + 3600


def test_a_run_the_database_kept_away_for_over_an_hour_fails_saying_so(retries_published):
    headers = {OUTAGES_HEADER: 30, OUTAGE_SINCE_HEADER: time.time() - 3700}

    with running(sync_documents, retries=30, headers=headers) as task:
        error = task._retry_after_outage(OperationalError("server closed the connection"), new_outage=False)

    assert isinstance(error, DatabaseUnavailable)
    assert "The database kept failing for 62 minutes" in str(error)
    assert retries_published == []


def test_a_sync_that_waited_two_lock_lifetimes_for_its_company_fails(retries_published):
    since = time.time() - company_sync_wait_limit() - 60
    headers = {LOCK_WAITS_HEADER: 40, LOCK_WAITING_SINCE_HEADER: since}
    busy = CompanySyncBusy("another sync of this company is running (task x)")

    gave_up = r"\(task x\); gave up after waiting \d+ minutes"

    with running(sync_documents, retries=40, headers=headers), pytest.raises(CompanySyncBusy, match=gave_up):
        sync_documents._retry_when_free(busy)

    assert retries_published == []
