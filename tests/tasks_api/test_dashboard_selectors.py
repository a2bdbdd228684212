"""The dashboard's reads: runs per local hour by state, failure rate, p50/p95, runs now, beat's next runs."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.selectors.dashboard import (
    next_beat_runs,
    percentile,
    run_progress,
    runs_overview,
    runs_running,
    success_percentiles,
)
from tests.factories import TaskLaunchFactory
from tests.runs import stored

pytestmark = pytest.mark.django_db
SANTIAGO = ZoneInfo("America/Santiago")


def run_at(
    launched: datetime, status: str | None = None, *, task_type: str = "sii.sync_documents", took=None
):
    launch = TaskLaunchFactory(task_type=task_type)
    TaskLaunch.objects.filter(pk=launch.pk).update(created_at=launched)
    if status:
        stored(launch, status)
    if took is not None:
        started = launched + timedelta(seconds=1)
        TaskLaunch.objects.filter(pk=launch.pk).update(started_at=started, finished_at=started + took)
        TaskResult.objects.filter(task_id=launch.task_id).update(
            date_created=started, date_done=started + took
        )
    return launch


def test_runs_per_hour_are_counted_by_state_in_local_hours():
    now = datetime(2026, 3, 10, 15, 30, tzinfo=SANTIAGO)
    run_at(now.replace(hour=14, minute=10), "SUCCESS")
    run_at(now.replace(hour=14, minute=50), "FAILURE")
    run_at(now.replace(minute=5), "SUCCESS")
    run_at(now.replace(minute=6))  # still waiting
    run_at(now - timedelta(hours=30), "FAILURE")  # before the window

    overview = runs_overview(now=now)

    assert len(overview.hours) == 24
    assert overview.hours[0].start == datetime(2026, 3, 9, 16, 0, tzinfo=SANTIAGO)
    assert overview.since == overview.hours[0].start
    assert [overview.hours[-2].counts, overview.hours[-1].counts] == [
        {"SUCCESS": 1, "FAILURE": 1},
        {"SUCCESS": 1, "PENDING": 1},
    ]
    assert overview.totals == {"SUCCESS": 2, "FAILURE": 1, "PENDING": 1}


def test_hours_follow_the_local_clock_where_it_is_off_the_hour_from_utc():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: a local hour straddles two UTC hours
    now = datetime(2026, 3, 10, 11, 15, tzinfo=kolkata)
    run_at(now.replace(hour=10, minute=10), "SUCCESS")
    run_at(now.replace(hour=10, minute=40), "SUCCESS")

    with timezone.override(kolkata):
        overview = runs_overview(now=now)

    assert overview.hours[-2].start == datetime(2026, 3, 10, 10, 0, tzinfo=kolkata)
    assert overview.hours[-2].counts == {"SUCCESS": 2}
    assert f"{overview.hours[-2].start:%H:%M}" == "10:00"


def test_the_failure_rate_is_failures_among_runs_that_succeeded_or_failed():
    now = timezone.now()
    for status in ("SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "REVOKED", None):
        run_at(now - timedelta(minutes=5), status, task_type="sii.sync_f29")

    (figures,) = runs_overview(now=now).task_types

    assert figures.task_type == "sii.sync_f29"
    assert figures.counts == {"SUCCESS": 3, "FAILURE": 1, "REVOKED": 1, "PENDING": 1}
    assert figures.failure_rate == 0.25


def test_a_task_type_without_finished_runs_has_no_failure_rate():
    run_at(timezone.now() - timedelta(minutes=5), "STARTED")

    (figures,) = runs_overview().task_types

    assert figures.failure_rate is None


def successful_runs_taking_one_to_ten_seconds(now):
    for seconds in range(1, 11):
        run_at(now - timedelta(minutes=seconds), "SUCCESS", took=timedelta(seconds=seconds))
    run_at(now - timedelta(minutes=1), "FAILURE", took=timedelta(seconds=500))  # not a success
    run_at(now - timedelta(days=2), "SUCCESS", took=timedelta(seconds=900))  # before the window


def test_p50_and_p95_interpolate_the_successful_runs_durations():
    # percentile_cont on PostgreSQL, the portable fallback on SQLite (make test runs both).
    now = timezone.now()
    successful_runs_taking_one_to_ten_seconds(now)

    (figures,) = runs_overview(now=now).task_types

    assert (figures.p50, figures.p95) == (timedelta(seconds=5.5), timedelta(seconds=9.55))


def test_the_portable_percentiles_agree_with_percentile_cont(monkeypatch):
    now = timezone.now()
    successful_runs_taking_one_to_ten_seconds(now)
    since = now - timedelta(hours=24)
    in_sql = success_percentiles(since=since)

    monkeypatch.setattr(connection, "vendor", "sqlite")  # the fallback `make run` takes on SQLite
    portable = success_percentiles(since=since)

    assert portable == in_sql == {"sii.sync_documents": (timedelta(seconds=5.5), timedelta(seconds=9.55))}


def test_percentile_of_one_value_is_that_value():
    assert percentile([timedelta(seconds=3)], 0.95) == timedelta(seconds=3)


@pytest.mark.parametrize(
    ("meta", "shown"),
    [
        (
            {"info": "Task is running", "current": 3, "total": 9, "step": "compras 202611"},
            "compras 202611, 3 of 9",
        ),
        ({"current": 2, "total": 4}, "2 of 4"),
        ({"pid": 12, "hostname": "w1"}, None),
        ("not a dict", None),
    ],
)
def test_progress_is_read_from_the_running_tasks_meta(meta, shown):
    progress = run_progress(json.dumps(meta))

    assert (str(progress) if progress else None) == shown


def test_progress_percent_rounds_and_never_passes_100():
    progress = run_progress(json.dumps({"current": 1, "total": 3, "step": "x"}))

    assert progress is not None
    assert progress.percent == 33


def test_runs_now_are_the_started_runs_oldest_first_not_those_waiting_to_retry():
    now = timezone.now()
    second = run_at(now - timedelta(minutes=1), "STARTED")
    first = run_at(now - timedelta(minutes=2), "STARTED")
    run_at(now - timedelta(minutes=3), "RETRY")
    run_at(now, "SUCCESS")
    run_at(now)

    assert [run.task_id for run in runs_running()] == [first.task_id, second.task_id]


@pytest.fixture
def no_schedules():
    PeriodicTask.objects.all().delete()  # the sii app's migrations add its daily syncs


@pytest.mark.parametrize(
    ("clock", "order"),
    [
        ("2026-12-07 09:00", ["hourly", "nightly"]),  # Santiago's morning: the nightly run is far
        ("2026-12-07 02:30", ["nightly", "hourly"]),  # half an hour before it: the nightly run first
        ("2026-12-07 02:59:59", ["nightly", "hourly"]),  # a second before it
        ("2026-12-07 03:00:01", ["hourly", "nightly"]),  # a second after it: tomorrow's
        ("2026-12-07 23:59:59", ["hourly", "nightly"]),  # across midnight
    ],
)
def test_next_beat_runs_are_computed_from_each_schedule_soonest_first(no_schedules, clock, order):
    with time_machine.travel(datetime.fromisoformat(clock).replace(tzinfo=SANTIAGO), tick=False):
        now = timezone.now()
        nightly = CrontabSchedule.objects.create(minute="0", hour="3", timezone="America/Santiago")
        hourly = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
        PeriodicTask.objects.create(name="nightly", task="x", crontab=nightly)
        PeriodicTask.objects.create(
            name="hourly", task="x", interval=hourly, last_run_at=now - timedelta(minutes=10)
        )
        PeriodicTask.objects.create(name="off", task="x", interval=hourly, enabled=False)
        spent = ClockedSchedule.objects.create(clocked_time=now - timedelta(hours=1))
        PeriodicTask.objects.create(name="spent", task="x", clocked=spent, one_off=True, total_run_count=1)

        runs = {run.periodic_task.name: run.at for run in next_beat_runs(now=now)}

    assert sorted(runs, key=runs.get) == order
    assert runs["hourly"] == now + timedelta(minutes=50)  # shown to the second
    assert timezone.localtime(runs["nightly"], SANTIAGO).time().isoformat() == "03:00:00"
    assert now < runs["nightly"] <= now + timedelta(days=1)


def test_a_schedule_not_yet_started_runs_at_its_start_time(no_schedules):
    now = timezone.now()
    hourly = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    start = (now + timedelta(days=3)).replace(microsecond=0)
    PeriodicTask.objects.create(name="later", task="x", interval=hourly, start_time=start)

    (run,) = next_beat_runs(now=now)

    assert run.at == start
