"""The console's live partials: a run's status region, its children table, the runs list's cells.

htmx polls them every 2 s while something runs (see the templates); each answers HTTP 286,
htmx's "stop polling", once nothing it shows can still change. One or two queries each, and
never a Celery broadcast: they read the same rows as the pages.
"""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse

from tasks_api.console import columns, display, run_page
from tasks_api.runs.queries import run_attempts
from tasks_api.selectors.children import (
    children_last_finished_at,
    children_page,
    children_status_counts,
    runs_by_ids,
    with_stored_result,
)
from tasks_api.states import FINISHED, STATUSES

STOP_POLLING = 286  # htmx stops an `every` trigger on this status, still swapping the answer
MAX_LIVE_IDS = 200
TEMPLATES = "admin/tasks_api/tasklaunch/"
CHILD_HEADERS = ["run", "subject", "status", "when", "duration", "error"]


def urls(modeladmin) -> list:
    wrap = modeladmin.admin_site.admin_view
    return [
        path(
            "live-rows/",
            wrap(lambda request: runs_live_view(modeladmin, request)),
            name="tasks_api_tasklaunch_live_rows",
        ),
        path(
            "<path:object_id>/live/",
            wrap(lambda request, object_id: run_live_view(modeladmin, request, object_id)),
            name="tasks_api_tasklaunch_live",
        ),
        path(
            "<path:object_id>/children/",
            wrap(lambda request, object_id: children_view(modeladmin, request, object_id)),
            name="tasks_api_tasklaunch_children",
        ),
    ]


def run_with_page(modeladmin, request, object_id: str):
    """The run for its page, with `page` (the live region's context) and its children table."""
    run = with_stored_result(modeladmin.get_queryset(request)).filter(pk=object_id).first()
    if run is None:
        return None
    counts = _counts(modeladmin, run)
    run.page = page_context(modeladmin, run, counts)
    if counts is not None:
        status, number = _children_params(request.GET, prefix="children_")
        run.children_table = children_context(modeladmin, run.task_id, counts, status=status, page=number)
        # A parent still running may launch more children: the table keeps polling until it ends.
        run.children_table["live"] = run.children_table["live"] or run.status not in FINISHED
    return run


def page_context(modeladmin, run, counts: dict[str, int] | None) -> dict:
    done = counts is not None and not any(counts[s] for s in STATUSES if s not in FINISHED)
    family_end = children_last_finished_at(parent_task_id=run.task_id) if done else None
    view = run_page.run_view(run, children_counts=counts, family_end=family_end, attempts=_attempts(run))
    tables = modeladmin.result_tables(run, view.result) if view.result is not None else []
    raw = [
        (name, display.pretty_json(value)) for name, value in (("result", view.result), ("meta", view.meta))
    ]
    return {
        "view": view,
        "tables": tables,
        "raw": [(name, html) for name, html in raw if html != "—"],
        "live_url": reverse("admin:tasks_api_tasklaunch_live", args=[run.task_id]),
    }


def _attempts(run) -> list:
    # A run never delivered has none (revoked or skipped deliveries count too): no query for it.
    return list(run_attempts(task_id=run.task_id)) if run.deliveries else []


def children_context(
    modeladmin, parent_task_id: str, counts: dict[str, int], *, status: str, page: int
) -> dict:
    total = sum(counts.values())
    found = children_page(
        runs=modeladmin.runs(), parent_task_id=parent_task_id, status=status, page=page,
        total=counts[status] if status else total,
    )  # fmt: skip
    links = _ChildrenLinks(parent_task_id, status)
    return {
        "table": {"headers": CHILD_HEADERS, "rows": [_child_row(modeladmin, child) for child in found.rows]},
        "page": found,
        "total_text": display.number(found.total),
        "filters": _filters(counts, status, links),
        "previous": links.both(found.number - 1) if found.number > 1 else None,
        "next": links.both(found.number + 1) if found.number < found.pages else None,
        "url": links.partial(status, found.number),
        "list_url": links.in_list(),
        "live": any(counts[s] for s in STATUSES if s not in FINISHED),
        "status": status,
    }


def run_live_view(modeladmin, request, object_id: str):
    _require_view(modeladmin, request)
    run = with_stored_result(modeladmin.runs()).filter(pk=object_id).first()
    if run is None:
        raise Http404("No such run")
    page = page_context(modeladmin, run, _counts(modeladmin, run))
    status = 200 if page["view"].live else STOP_POLLING
    return TemplateResponse(request, TEMPLATES + "run_live.html", {"page": page}, status=status)


def children_view(modeladmin, request, object_id: str):
    _require_view(modeladmin, request)
    try:
        status, number = _children_params(request.GET, prefix="", strict=True)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    counts = children_status_counts(parent_task_id=object_id)
    children = children_context(modeladmin, object_id, counts, status=status, page=number)
    if not children["live"]:  # no child left to finish; the parent may still be launching them
        parent = modeladmin.runs().filter(pk=object_id).values_list("status", flat=True).first()
        children["live"] = parent is not None and parent not in FINISHED
    code = 200 if children["live"] else STOP_POLLING
    return TemplateResponse(request, TEMPLATES + "run_children.html", {"children": children}, status=code)


def runs_live_view(modeladmin, request):
    _require_view(modeladmin, request)
    ids = request.GET.getlist("id")
    if len(ids) > MAX_LIVE_IDS:
        return HttpResponseBadRequest(f"At most {MAX_LIVE_IDS} runs at a time")
    runs = runs_by_ids(runs=modeladmin.runs(), task_ids=ids)
    context = {
        "cells": [columns.cell(run, name, oob=True) for run in runs for name in columns.LIVE_CELLS],
        "live_ids": [run.task_id for run in runs if run.status not in FINISHED],
    }
    status = 200 if context["live_ids"] else STOP_POLLING
    return TemplateResponse(request, TEMPLATES + "list_live_indicator.html", context, status=status)


def with_list_context(response, request):
    """The runs list's page: the ids its poll watches, and list actions that keep the filters."""
    context = getattr(response, "context_data", None)
    if not context or "cl" not in context:
        return response  # a redirect, or an action's confirmation page
    context["live_ids"] = [run.task_id for run in context["cl"].result_list if run.status not in FINISHED]
    query = request.GET.copy()
    query.pop("p", None)
    for item in context.get("actions_list") or []:
        if query and "path" in item:
            item["path"] = f"{item['path']}?{query.urlencode()}"
    return response


def _require_view(modeladmin, request) -> None:
    if not modeladmin.has_view_permission(request):
        raise PermissionDenied


def _counts(modeladmin, run) -> dict[str, int] | None:
    if not run_page.fans_out(run.task_type):
        return None
    return children_status_counts(parent_task_id=run.task_id)


def _children_params(params, *, prefix: str, strict: bool = False) -> tuple[str, int]:
    """The children table's status filter and page number; lenient on the page, strict on polls."""
    status = params.get(f"{prefix}status", "")
    page = params.get(f"{prefix}page", "1")
    if status and status not in STATUSES:
        if strict:
            raise ValueError(f"Unknown status {status!r}; one of {', '.join(STATUSES)}")
        status = ""
    if not page.isdigit() or not 0 < int(page) < 10**6:
        if strict:
            raise ValueError("page must be a positive whole number")
        page = "1"
    return status, int(page)


def _child_row(modeladmin, child) -> list:
    return [
        display.run_link(child.task_id, child.task_id[:8]),
        modeladmin.subject_label(child) or "—",
        columns.status_cell(child),
        columns.when_cell(child),
        columns.duration_cell(child),
        _child_error(child),
    ]


def _child_error(child) -> str:
    return child.error if child.status in ("FAILURE", "RETRY") else ""


def _filters(counts: dict[str, int], status: str, links: "_ChildrenLinks") -> list[dict]:
    shown = [("", "All", sum(counts.values()))] + [
        (s, s.capitalize(), counts[s]) for s in STATUSES if counts[s] or s == status
    ]
    return [
        {"label": label, "count": display.number(count), "active": value == status,
         "href": links.page(1, value), "partial": links.partial(value, 1)}
        for value, label, count in shown
    ]  # fmt: skip


class _ChildrenLinks:
    """The children table's URLs: the full page (works without JavaScript) and its partial."""

    def __init__(self, parent_task_id: str, status: str) -> None:
        self.parent_task_id = parent_task_id
        self.status = status

    def page(self, number: int, status: str | None = None) -> str:
        status = self.status if status is None else status
        base = reverse("admin:tasks_api_tasklaunch_change", args=[self.parent_task_id])
        query = urlencode({k: v for k, v in (("children_status", status), ("children_page", number)) if v})
        return f"{base}?{query}#run-children"

    def partial(self, status: str, number: int) -> str:
        base = reverse("admin:tasks_api_tasklaunch_children", args=[self.parent_task_id])
        return f"{base}?{urlencode({k: v for k, v in (('status', status), ('page', number)) if v})}"

    def both(self, number: int) -> dict[str, str]:
        return {"href": self.page(number), "partial": self.partial(self.status, number)}

    def in_list(self) -> str:
        query = {"parent": self.parent_task_id, **({"status": self.status} if self.status else {})}
        return f"{reverse('admin:tasks_api_tasklaunch_changelist')}?{urlencode(query)}"
