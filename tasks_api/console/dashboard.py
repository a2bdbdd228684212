"""The admin's home: runs by hour and task type, runs now, workers and queues, beat's next runs.

The sections are built here; UNFOLD["DASHBOARD_CALLBACK"] (config.dashboard) puts them in the
index page's context next to a domain's own panels. The live part (runs now, counts, workers,
queues) is polled by htmx from dashboard/live/ every 2 s while something runs; that endpoint
answers 286, htmx's "stop polling", once nothing does.
"""

import json
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timeuntil

from tasks_api import permissions
from tasks_api.console import display
from tasks_api.console.pages import admin_pages_add
from tasks_api.console.workers import queues_summary, runs_list_url, workers_summary
from tasks_api.models import TaskLaunch
from tasks_api.registry import catalog
from tasks_api.runs.queries import task_runs
from tasks_api.selectors.dashboard import (
    RunsOverview,
    TaskTypeFigures,
    next_beat_runs,
    run_progress,
    runs_overview,
    runs_running,
)
from tasks_api.selectors.stats import celery_stats_get

STOP_POLLING = 286  # https://htmx.org/attributes/hx-trigger/ (polling): this status ends it
RUNNING_SHOWN = 20
FINAL_STATES = {"SUCCESS": "green-500", "FAILURE": "red-500", "REVOKED": "base-400"}

# The dashboard replaces the app list as the admin's home (unfold renders index_template).
admin.site.index_template = "admin/dashboard/index.html"


def dashboard_sections(request: HttpRequest) -> dict[str, Any]:
    """The index page's context for tasks_api's sections."""
    overview = runs_overview()
    return {
        "live": live_context(request, overview=overview),
        "since": overview.since,
        "chart": runs_chart(overview),
        "final_totals": final_totals(overview),
        "task_types": task_types_table(overview),
        "beat_runs": beat_runs(),
    }


def live_context(request: HttpRequest, *, overview: RunsOverview | None = None) -> dict[str, Any]:
    """What changes while runs run: counts, runs now with their progress, workers, queues."""
    overview = overview or runs_overview(percentiles=False)
    model_admin = _runs_admin()
    running = runs_running(runs=model_admin.runs() if model_admin else task_runs())
    shown = list(running[:RUNNING_SHOWN])
    running_total = len(shown) if len(shown) < RUNNING_SHOWN else running.count()
    stats = celery_stats_get()
    totals = overview.totals
    waiting = totals.get("PENDING", 0)
    return {
        "active": running_total + waiting > 0,
        "as_of": timezone.localtime(),
        "cards": _count_cards(overview, running_total=running_total, workers=len(stats["workers_online"])),
        "running": [_running_row(run, model_admin) for run in shown],
        "running_more": running_total - len(shown),
        "workers": workers_summary(stats),
        "queues": queues_summary(stats),
    }


def _runs_admin() -> Any:
    """The registered runs admin: a domain's subclass names each run's subject (a company, say)."""
    model_admin = admin.site._registry.get(TaskLaunch)
    return model_admin if hasattr(model_admin, "runs") else None


def _count_cards(overview: RunsOverview, *, running_total: int, workers: int) -> list[dict[str, Any]]:
    since = overview.since.isoformat(sep=" ")
    totals = overview.totals
    return [
        {"title": "Running now", "value": running_total, "url": runs_list_url(status="STARTED")},
        {
            "title": "Waiting",
            "value": totals.get("PENDING", 0),
            "url": runs_list_url(status="PENDING", created_at__gte=since),
        },
        {
            "title": "Succeeded, 24 h",
            "value": totals.get("SUCCESS", 0),
            "url": runs_list_url(status="SUCCESS", created_at__gte=since),
        },
        {
            "title": "Failed, 24 h",
            "value": totals.get("FAILURE", 0),
            "url": runs_list_url(status="FAILURE", created_at__gte=since),
        },
        {"title": "Workers online", "value": workers, "url": reverse("admin:workers")},
    ]


def _running_row(run: Any, model_admin: Any) -> dict[str, Any]:
    return {
        "url": reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id]),
        "task_id": run.task_id,
        "task_type": run.task_type,
        "subject": model_admin.subject_label(run) if model_admin else str(run.subject_id or ""),
        "status": run.status,
        "started_at": run.started_at,
        "progress": run_progress(run.stored_result),
    }


def runs_chart(overview: RunsOverview) -> dict[str, Any]:
    """Chart.js data for unfold's bar chart (stacked), and where each bar leads."""
    datasets = [
        {
            "label": state,
            "data": [hour.counts.get(state, 0) for hour in overview.hours],
            "backgroundColor": f"var(--color-{colour})",
        }
        for state, colour in FINAL_STATES.items()
    ]
    data = {"labels": [f"{hour.start:%H:%M}" for hour in overview.hours], "datasets": datasets}
    links = [
        [
            runs_list_url(
                status=state,
                created_at__gte=hour.start.isoformat(sep=" "),
                created_at__lt=hour.end.isoformat(sep=" "),
            )
            for hour in overview.hours
        ]
        for state in FINAL_STATES
    ]
    return {"data": json.dumps(data), "options": json.dumps(CHART_OPTIONS), "links": links}


# unfold's defaults overlap bars ("grouped": false); stacked bars need their own scales.
CHART_OPTIONS = {
    "animation": False,
    "responsive": True,
    "maintainAspectRatio": False,
    "plugins": {"legend": {"display": True, "align": "end", "labels": {"boxWidth": 10}}},
    "scales": {
        "x": {"stacked": True, "grid": {"display": False}},
        "y": {"stacked": True, "beginAtZero": True, "ticks": {"precision": 0}},
    },
}


def final_totals(overview: RunsOverview) -> list[dict[str, Any]]:
    since = overview.since.isoformat(sep=" ")
    return [
        {
            "state": state,
            "runs": overview.totals.get(state, 0),
            "url": runs_list_url(status=state, created_at__gte=since),
        }
        for state in FINAL_STATES
    ]


def task_types_table(overview: RunsOverview) -> dict[str, Any]:
    """Per task type (every catalog type, and any other seen): runs, failures, p50 and p95."""
    seen = {figures.task_type: figures for figures in overview.task_types}
    names = sorted(set(catalog()) | set(seen))
    since = overview.since.isoformat(sep=" ")
    rows = [_task_type_row(seen.get(name) or TaskTypeFigures(task_type=name), since) for name in names]
    headers = ["task type", "runs", "succeeded", "failed", "failure rate", "p50", "p95"]
    return {"headers": headers, "rows": rows}


def _task_type_row(figures: TaskTypeFigures, since: str) -> list[Any]:
    name = figures.task_type

    def count(runs: int, **status: str) -> str:
        url = runs_list_url(**status, task_type=name, created_at__gte=since)
        return format_html('<a href="{}" class="text-primary-600">{}</a>', url, runs)

    rate = figures.failure_rate
    return [
        name,
        count(sum(figures.counts.values())),
        count(figures.counts.get("SUCCESS", 0), status="SUCCESS"),
        count(figures.counts.get("FAILURE", 0), status="FAILURE"),
        "—" if rate is None else f"{rate:.0%}",
        display.duration_text(figures.p50.total_seconds()) if figures.p50 is not None else "—",
        display.duration_text(figures.p95.total_seconds()) if figures.p95 is not None else "—",
    ]


def beat_runs() -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {
            "name": run.periodic_task.name,
            "url": reverse("admin:django_celery_beat_periodictask_change", args=[run.periodic_task.pk]),
            "at": timezone.localtime(run.at),
            "in": "due now" if run.at <= now else f"in {timeuntil(run.at, now)}",
            "schedule": str(run.periodic_task.scheduler),
        }
        for run in next_beat_runs(now=now)
    ]


def dashboard_live(request: HttpRequest) -> TemplateResponse:
    """The live part alone, for htmx: 200 while something runs or waits, 286 once nothing does."""
    if not request.user.has_perm(permissions.VIEW):
        raise PermissionDenied
    live = live_context(request)
    return TemplateResponse(
        request, "admin/dashboard/live.html", {"live": live}, status=200 if live["active"] else STOP_POLLING
    )


def runs_visible(request: HttpRequest) -> bool:
    return request.user.has_perm(permissions.VIEW)


admin_pages_add(path("dashboard/live/", admin.site.admin_view(dashboard_live), name="dashboard_live"))
