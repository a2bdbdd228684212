"""The runs list's cells, one line each; status, when and duration also come from the live partial.

A cell that changes while a run runs is wrapped in an element with a stable id, so the list's
poll can replace it out of band (htmx hx-swap-oob) without reloading the page.
"""

from django.utils import timezone
from django.utils.html import format_html

from tasks_api.console import display
from tasks_api.states import FINISHED

LIVE_CELLS = ("status", "when", "duration", "error")


def cell(run, name: str, *, oob: bool = False) -> str:
    """One live cell of `run` (status, when, duration, error) in its id'd wrapper."""
    cells = {"status": status_cell, "when": when_cell, "duration": duration_cell, "error": error_cell}
    content = cells[name](run)
    if oob:
        return format_html('<span id="run-{}-{}" hx-swap-oob="true">{}</span>', name, run.task_id, content)
    return format_html('<span id="run-{}-{}">{}</span>', name, run.task_id, content)


def status_cell(run) -> str:
    retries = format_html(' <span title="retries">↻{}</span>', run.retries) if run.retries else ""
    return format_html("{}{}", display.status_badge(run.status), retries)


def when_cell(run) -> str:
    """Started (else launched) to the second, and the finish time when it finished."""
    start = run.started_at or run.created_at
    if not run.finished_at:
        verb = "started" if run.started_at else "launched"
        return format_html(
            '<span title="{} {}">{}</span>', verb, display.moment(start), display.moment(start, short=True)
        )
    same_day = timezone.localdate(run.finished_at) == timezone.localdate(start)
    end = display.moment(run.finished_at, time_only=same_day, short=True)
    title = f"launched {display.moment(run.created_at)}, finished {display.moment(run.finished_at)}"
    return format_html('<span title="{}">{} → {}</span>', title, display.moment(start, short=True), end)


def duration_cell(run) -> str:
    if run.duration is not None:
        return display.duration_text(run.duration.total_seconds())
    if run.started_at and run.status not in FINISHED:
        return f"{display.duration_text((timezone.now() - run.started_at).total_seconds())} …"
    return "—"


def error_cell(run) -> str:
    """Why it failed, or why its last attempt did while it waits to retry; clipped, whole on hover."""
    if run.status not in ("FAILURE", "RETRY") or not run.error:
        return "—"
    return format_html('<span class="run-cell-error" title="{}">{}</span>', run.error, run.error)


def launcher_cell(run) -> str:
    """Who launched it, compactly: the user's name, the schedule, the parent's short id."""
    if run.user:
        return run.user.get_username()
    if run.periodic_task_name:
        return format_html(
            '<span title="beat: {}">⏱ {}</span>', run.periodic_task_name, run.periodic_task_name
        )
    if run.parent_id:
        return format_html("↳ {}", display.run_link(run.parent_id, run.parent_id[:8]))
    return run.get_launched_by_display().lower()
