"""Retention: old runs go with their attempts and results, in bounded batches, keeping each task
type and subject's latest run and whatever a kept run refers to."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api.models import IdempotencyKey, RunAttempt, TaskLaunch
from tasks_api.services.retention import runs_expire
from tests.factories import UserFactory
from tests.runs import launched_days_ago

pytestmark = pytest.mark.django_db
NOW = timezone.now()
COMPANY = uuid.uuid4()


def run(
    *, days_ago: float, status: str = "SUCCESS", subject=COMPANY, task_type="sii.sync_documents", **fields
):
    """A run launched `days_ago` days ago that ended `status` (PENDING: it never started)."""
    return launched_days_ago(
        days_ago=days_ago, now=NOW, status=status, task_type=task_type, subject_id=subject, **fields
    )


def kept(*launches) -> set[str]:
    ids = [launch.task_id for launch in launches]
    return set(TaskLaunch.objects.filter(task_id__in=ids).values_list("task_id", flat=True))


@pytest.fixture(autouse=True)
def ninety_days(settings):
    settings.TASKS_API_RETENTION_DAYS = 90


def test_an_old_run_superseded_by_a_later_one_goes_with_its_attempts_and_result():
    old, latest = run(days_ago=120), run(days_ago=100)

    assert runs_expire(now=NOW) == 1

    assert kept(old, latest) == {latest.task_id}
    assert not RunAttempt.objects.filter(run_id=old.task_id).exists()
    assert not TaskResult.objects.filter(task_id=old.task_id).exists()
    assert TaskResult.objects.filter(task_id=latest.task_id).exists()


def test_recent_runs_unfinished_runs_and_each_subject_s_latest_stay():
    other = uuid.uuid4()
    recent = [run(days_ago=10), run(days_ago=1)]
    stuck = run(days_ago=200, status="PENDING")
    others_latest = run(days_ago=300, subject=other)
    f29_latest = run(days_ago=300, task_type="sii.sync_f29")

    runs_expire(now=NOW)

    assert kept(*recent, stuck, others_latest, f29_latest) == {
        r.task_id for r in (*recent, stuck, others_latest, f29_latest)
    }


def test_runs_without_a_subject_keep_their_task_type_s_latest():
    old, latest = (
        run(days_ago=days, subject=None, task_type="sii.sync_f29_all_companies") for days in (200, 150)
    )

    runs_expire(now=NOW)

    assert kept(old, latest) == {latest.task_id}


def test_a_kept_child_keeps_its_fan_out_parent_and_a_parent_goes_once_its_children_have():
    parent = run(days_ago=200, subject=None, task_type="sii.sync_documents_all_companies")
    run(days_ago=100, subject=None, task_type="sii.sync_documents_all_companies")  # a later fan-out
    child = run(days_ago=200, parent=parent)
    only_run_of_its_company = run(days_ago=200, subject=uuid.uuid4(), parent=parent)
    run(days_ago=100)  # supersedes `child`

    runs_expire(now=NOW)

    assert kept(parent, child, only_run_of_its_company) == {parent.task_id, only_run_of_its_company.task_id}
    run(days_ago=99, subject=only_run_of_its_company.subject_id)
    runs_expire(now=NOW)
    assert kept(parent, only_run_of_its_company) == set()


def test_a_run_a_kept_run_relaunched_stays_and_goes_with_it():
    original = run(days_ago=200, status="FAILURE")
    relaunch = run(days_ago=199, relaunch_of=original)  # its company's latest: kept

    runs_expire(now=NOW)
    assert kept(original, relaunch) == {original.task_id, relaunch.task_id}

    run(days_ago=100)
    runs_expire(now=NOW)
    assert kept(original, relaunch) == set()


def test_an_idempotency_key_outlives_the_run_it_launched():
    old = run(days_ago=200)
    run(days_ago=100)
    key = IdempotencyKey.objects.create(user=UserFactory(), key="k", fingerprint="f", launch=old)

    runs_expire(now=NOW)

    key.refresh_from_db()
    assert key.launch_id is None


def test_results_of_tasks_that_were_never_runs_go_after_the_retention_too():
    TaskResult.objects.create(task_id="by-hand-old", status="SUCCESS")
    TaskResult.objects.create(task_id="by-hand-new", status="SUCCESS")
    TaskResult.objects.filter(task_id="by-hand-old").update(date_done=NOW - timedelta(days=91))

    runs_expire(now=NOW)

    left = TaskResult.objects.filter(task_id__startswith="by-hand-")
    assert set(left.values_list("task_id", flat=True)) == {"by-hand-new"}


def test_runs_go_in_batches_of_the_given_size_each_its_own_statement():
    old = [run(days_ago=200 - n) for n in range(5)]
    run(days_ago=1)

    with CaptureQueriesContext(connection) as queries:
        assert runs_expire(now=NOW, batch_size=2) == 5

    assert kept(*old) == set()
    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "tasks_api_tasklaunch"')]
    assert len(deletes) == 3  # 2 + 2 + 1


def test_a_pass_stops_when_its_time_is_spent_and_the_next_goes_on():
    old = [run(days_ago=200 - n) for n in range(3)]
    run(days_ago=1)

    assert runs_expire(now=NOW, batch_size=1, budget=0) == 0
    assert runs_expire(now=NOW, batch_size=1) == 3
    assert kept(*old) == set()


def test_a_retention_of_zero_days_keeps_everything(settings):
    settings.TASKS_API_RETENTION_DAYS = 0
    old = run(days_ago=2000)
    run(days_ago=1000)

    assert runs_expire(now=NOW) == 0
    assert kept(old) == {old.task_id}
