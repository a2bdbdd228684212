"""Small HTML helpers for the admin pages: status badges, links, pretty JSON."""

import json

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

STATUS_COLOURS = {
    "PENDING": "#777",
    "STARTED": "#1f6fb2",
    "RETRY": "#b26a00",
    "SUCCESS": "#2e7d32",
    "FAILURE": "#c62828",
    "REVOKED": "#6a1b9a",
}


def status_badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#777")
    return format_html(
        '<span class="run-status" style="color:#fff;background:{};padding:1px 6px;border-radius:3px">{}</span>',
        colour,
        status,
    )


def pretty_json(value) -> str:
    if value in (None, "", {}, []):
        return "—"
    return format_html(
        "<pre class='run-json'>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, default=str)
    )


def preformatted(text: str | None) -> str:
    return format_html("<pre class='run-text'>{}</pre>", text) if text else "—"


def admin_link(viewname: str, pk, label) -> str:
    try:
        return format_html('<a href="{}">{}</a>', reverse(viewname, args=[pk]), label)
    except NoReverseMatch:
        return str(label)


def run_link(task_id: str, label=None) -> str:
    return admin_link("admin:tasks_api_tasklaunch_change", task_id, label or task_id)


def run_links(task_ids: list[str]) -> str:
    return format_html_join(", ", "{}", ((run_link(task_id),) for task_id in task_ids))


def duration_text(seconds: float | None) -> str:
    """A duration as people say it: "0.4 s", "1.8 s", "42 s", "4 min 12 s", "2 h 5 min"."""
    if seconds is None:
        return "—"
    if seconds < 0.05:
        return "< 0.1 s"
    if round(seconds, 1) < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
