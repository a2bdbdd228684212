"""The workers and queues page (/admin/workers/): the API's stats service, as operators read it."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join

from tasks_api import permissions
from tasks_api.console import display
from tasks_api.console.pages import admin_pages_add
from tasks_api.selectors.stats import celery_stats_get


def runs_list_url(**filters: str) -> str:
    """The runs admin's list, filtered by its own query parameters (status, task_type, created_at__gte)."""
    base = reverse("admin:tasks_api_tasklaunch_changelist")
    return f"{base}?{urlencode(filters)}" if filters else base


def workers_summary(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per worker online: concurrency, tasks on hand, processed totals, pool, uptime."""
    return [_worker(name, stats) for name in stats.get("workers_online", [])]


def _worker(name: str, stats: dict[str, Any]) -> dict[str, Any]:
    info = stats.get("worker_stats", {}).get(name) or {}
    pool = info.get("pool") or {}
    concurrency = pool.get("max-concurrency")
    active = stats.get("active_tasks", {}).get(name) or []
    return {
        "name": name,
        "concurrency": concurrency,
        "active": len(active),
        "active_tasks": [_task(task) for task in active],
        "reserved": len(stats.get("reserved_tasks", {}).get(name) or []),
        "processed": sum((info.get("total") or {}).values()),
        "pool": str(pool.get("implementation") or "").rpartition(".")[2].replace(":TaskPool", "") or "—",
        "uptime": display.duration_text(info["uptime"])
        if isinstance(info.get("uptime"), int | float)
        else "—",
        "busy": f"{len(active)} of {concurrency or '?'} busy",
        "load": round(100 * len(active) / concurrency) if concurrency else 0,
    }


def _task(task: dict[str, Any]) -> dict[str, Any]:
    task_id = str(task.get("id") or "")
    return {"id": task_id, "name": task.get("name") or task.get("type") or "?", "link": _run_link(task_id)}


def _run_link(task_id: str) -> str:
    try:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:tasks_api_tasklaunch_change", args=[task_id]), task_id[:8]
        )
    except NoReverseMatch:
        return task_id[:8]


def queues_summary(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages waiting per queue (None when the broker could not be read), linked to waiting runs."""
    waiting = runs_list_url(status="PENDING")
    return [{"name": name, "depth": depth, "url": waiting} for name, depth in stats.get("queues", {}).items()]


def load_bar(percent: int, *, title: str) -> str:
    return render_to_string("unfold/components/progress.html", {"value": percent, "description": title})


def workers_table(workers: list[dict[str, Any]]) -> dict[str, Any]:
    """The workers as unfold's table component takes them."""
    headers = ["worker", "pool", "concurrency", "load", "reserved", "processed", "uptime", "running"]
    rows = [
        [
            worker["name"], worker["pool"], worker["concurrency"] or "—",
            load_bar(worker["load"], title=worker["busy"]),
            worker["reserved"], worker["processed"], worker["uptime"],
            format_html_join(", ", "{}", ((task["link"],) for task in worker["active_tasks"])) or "—",
        ]
        for worker in workers
    ]  # fmt: skip
    return {"headers": headers, "rows": rows}


def queues_table(queues: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [
        [
            queue["name"],
            format_html('<a href="{}" class="text-primary-600">{}</a>', queue["url"], _depth(queue)),
        ]
        for queue in queues
    ]
    return {"headers": ["queue", "messages waiting"], "rows": rows}


def _depth(queue: dict[str, Any]) -> str:
    return "unknown (broker unreachable)" if queue["depth"] is None else str(queue["depth"])


def workers_view(request: HttpRequest) -> TemplateResponse:
    if not request.user.has_perm(permissions.VIEW):
        raise PermissionDenied
    stats = celery_stats_get()
    context = {
        **admin.site.each_context(request),
        "title": "Workers & queues",
        "workers": workers_table(workers_summary(stats)),
        "workers_online": len(stats.get("workers_online", [])),
        "queues": queues_table(queues_summary(stats)),
        "scheduled": sum(len(tasks) for tasks in stats.get("scheduled_tasks", {}).values()),
    }
    return TemplateResponse(request, "admin/workers/index.html", context)


admin_pages_add(path("workers/", admin.site.admin_view(workers_view), name="workers"))
