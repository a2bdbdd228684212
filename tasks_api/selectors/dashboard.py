"""The dashboard's reads: runs per hour by state, durations per task type, runs now, beat's next runs."""

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncHour
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch

WINDOW = timedelta(hours=24)


@dataclass
class HourOfRuns:
    start: datetime  # local time
    end: datetime
    counts: dict[str, int] = field(default_factory=dict)  # status -> runs launched in the hour


@dataclass
class TaskTypeFigures:
    task_type: str
    counts: dict[str, int] = field(default_factory=dict)  # status -> runs launched in the window
    p50: timedelta | None = None  # of the successful runs' durations
    p95: timedelta | None = None

    @property
    def failure_rate(self) -> float | None:
        """FAILURE among the runs that succeeded or failed (revoked ones are neither)."""
        decided = self.counts.get("SUCCESS", 0) + self.counts.get("FAILURE", 0)
        return self.counts.get("FAILURE", 0) / decided if decided else None


def hour_starts(*, now: datetime, hours: int) -> list[datetime]:
    """The local starts of the last `hours` hours, oldest first, the current hour last.

    Stepped in UTC: a local hour is an hour long even across a DST change.
    """
    current = timezone.localtime(now).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    return [timezone.localtime(current - timedelta(hours=back)) for back in reversed(range(hours))]


def launch_states_counted(*, since: datetime) -> QuerySet:
    """Launches from `since` on, counted by local hour, task type and stored status."""
    return (
        TaskLaunch.objects.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at", tzinfo=timezone.get_current_timezone()))
        .values("hour", "task_type", "status")
        .annotate(runs=Count("pk"))
        .order_by()
    )


@dataclass
class RunsOverview:
    since: datetime  # the start of the oldest hour: every figure counts the runs launched from then
    hours: list[HourOfRuns]
    task_types: list[TaskTypeFigures]

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for hour in self.hours:
            for status, runs in hour.counts.items():
                totals[status] += runs
        return dict(totals)


def runs_overview(*, now: datetime | None = None, hours: int = 24, percentiles: bool = True) -> RunsOverview:
    """Runs launched per local hour and per task type, by status (one query); with `percentiles`,
    p50/p95 per type too (a second one)."""
    starts = hour_starts(now=now or timezone.now(), hours=hours)
    by_hour: dict[datetime, dict[str, int]] = defaultdict(dict)
    by_type: dict[str, TaskTypeFigures] = {}
    for row in launch_states_counted(since=starts[0]):
        status = row["status"]
        figures = by_type.setdefault(row["task_type"], TaskTypeFigures(task_type=row["task_type"]))
        for counts in (by_hour[row["hour"]], figures.counts):
            counts[status] = counts.get(status, 0) + row["runs"]
    for task_type, (p50, p95) in (success_percentiles(since=starts[0]) if percentiles else {}).items():
        figures = by_type.setdefault(task_type, TaskTypeFigures(task_type=task_type))
        figures.p50, figures.p95 = p50, p95
    ends = [*starts[1:], timezone.localtime(starts[-1] + timedelta(hours=1))]
    return RunsOverview(
        since=starts[0],
        hours=[
            HourOfRuns(start, end, by_hour.get(start, {})) for start, end in zip(starts, ends, strict=True)
        ],
        task_types=sorted(by_type.values(), key=lambda figures: figures.task_type),
    )


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont: the `fraction` percentile, interpolated, of an ordered set."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"


def success_percentiles(*, since: datetime) -> dict[str, tuple[timedelta, timedelta]]:
    """p50 and p95 of the durations (start to finish) of successful runs launched since `since`."""
    successes = (
        TaskLaunch.objects.filter(created_at__gte=since, status="SUCCESS", started_at__isnull=False)
        .annotate(duration=F("finished_at") - F("started_at"))
        .order_by()
    )
    if connection.vendor == "postgresql":
        rows = successes.values("task_type").annotate(
            p50=PercentileCont("duration", fraction=0.5, output_field=DurationField()),
            p95=PercentileCont("duration", fraction=0.95, output_field=DurationField()),
        )
        return {row["task_type"]: (row["p50"], row["p95"]) for row in rows}
    durations: dict[str, list[timedelta]] = defaultdict(list)
    for name, duration in successes.values_list("task_type", "duration"):
        durations[name].append(duration)
    return {name: (percentile(taken, 0.5), percentile(taken, 0.95)) for name, taken in durations.items()}


def percentile(values: list[timedelta], fraction: float) -> timedelta:
    """percentile_cont's answer in Python (SQLite has no such aggregate): linear interpolation."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower, upper = ordered[math.floor(position)], ordered[math.ceil(position)]
    return lower + (upper - lower) * (position - math.floor(position))


@dataclass
class Progress:
    current: int
    total: int
    step: str

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.current / self.total)) if self.total > 0 else 0

    def __str__(self) -> str:
        return (
            f"{self.step}, {self.current} of {self.total}" if self.step else f"{self.current} of {self.total}"
        )


def run_progress(stored_result: str | None) -> Progress | None:
    """The progress a running task reported (RecordedTask.report_progress) from its result's meta."""
    try:
        meta = json.loads(stored_result) if stored_result else None
    except ValueError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("total"), int):
        return None
    current = meta.get("current")
    return Progress(
        current=current if isinstance(current, int) else 0,
        total=meta["total"],
        step=str(meta.get("step") or ""),
    )


def runs_running(*, runs: QuerySet[TaskLaunch] | None = None) -> QuerySet[TaskLaunch]:
    """The runs a worker is on now (STARTED; not those waiting for a retry), oldest first, with
    their stored meta as `stored_result`; `runs` is the queryset to start from (an admin's, say)."""
    result = TaskResult.objects.filter(task_id=OuterRef("task_id"))
    return (
        (runs if runs is not None else TaskLaunch.objects.all())
        .filter(status="STARTED")
        .annotate(stored_result=Subquery(result.values("result")[:1]))
        .order_by("created_at")
    )


@dataclass
class BeatRun:
    periodic_task: PeriodicTask
    at: datetime


def next_beat_runs(*, now: datetime | None = None, limit: int = 8) -> list[BeatRun]:
    """The enabled schedules' next runs, soonest first, computed as beat computes them."""
    now = now or timezone.now()
    tasks = PeriodicTask.objects.filter(enabled=True).select_related(
        "interval", "crontab", "solar", "clocked"
    )
    upcoming = [BeatRun(task, at) for task in tasks if (at := beat_next_run(task, now=now)) is not None]
    return sorted(upcoming, key=lambda run: run.at)[:limit]


def beat_next_run(task: PeriodicTask, *, now: datetime) -> datetime | None:
    """When beat will next send `task`; None when it never will (a spent one-off, expired)."""
    if task.one_off and task.total_run_count:
        return None
    # django-celery-beat's ModelEntry: a task never run counts from its last change, or from long
    # ago when it has a start time (so that it runs at that time).
    last = task.last_run_at or task.date_changed or now
    if task.start_time and not task.last_run_at:
        last -= timedelta(days=365 * 30)
    at = max(now, timezone.now() + task.schedule.remaining_estimate(last))
    if task.start_time and task.start_time > at:
        at = task.start_time
    if task.expires and at > task.expires:
        return None
    return at.replace(microsecond=0) + timedelta(seconds=round(at.microsecond / 1e6))
