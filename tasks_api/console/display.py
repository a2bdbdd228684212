"""Small HTML helpers for the admin pages: status badges, links, moments, durations, pretty JSON."""

import json
from datetime import datetime

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join

# unfold's label colours (unfold/helpers/label.html), so badges match the theme in light and dark.
LABEL_CLASSES = {
    "info": "bg-blue-100 text-blue-700 dark:bg-blue-500/20 dark:text-blue-400",
    "danger": "bg-red-100 text-red-700 dark:bg-red-500/20 dark:text-red-400",
    "warning": "bg-orange-100 text-orange-700 dark:bg-orange-500/20 dark:text-orange-400",
    "success": "bg-green-100 text-green-700 dark:bg-green-500/20 dark:text-green-400",
    "primary": "bg-primary-100 text-primary-700 dark:bg-primary-500/20 dark:text-primary-400",
    "default": "bg-base-500/8 text-base-700 dark:bg-base-500/20 dark:text-base-200",
}
STATUS_VARIANTS = {
    "PENDING": "default",
    "STARTED": "info",
    "RETRY": "warning",
    "SUCCESS": "success",
    "FAILURE": "danger",
    "REVOKED": "primary",
}


def label(text: str, variant: str = "default", title: str = "") -> str:
    classes = LABEL_CLASSES.get(variant, LABEL_CLASSES["default"])
    return format_html(
        '<span class="inline-block font-semibold rounded-default text-[11px] uppercase whitespace-nowrap '
        'h-6 leading-6 px-2 {}"{}>{}</span>',
        classes,
        format_html(' title="{}"', title) if title else "",
        text,
    )


def status_badge(status: str) -> str:
    return format_html(
        '<span class="run-status" data-status="{}">{}</span>',
        status,
        label(status, STATUS_VARIANTS.get(status, "default")),
    )


def moment(value: datetime | None, *, time_only: bool = False, short: bool = False) -> str:
    """A moment in local time, to the second: "2025-11-28 14:03:12", or "14:03:12"; `short`
    (list cells) drops this year's year: "28 Nov 14:03:12"."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    if time_only:
        return date_format(local, "H:i:s")
    if short:
        return date_format(local, "j M H:i:s" if local.year == timezone.localdate().year else "j M Y H:i:s")
    return date_format(local, "Y-m-d H:i:s")


def number(value: int) -> str:
    """A count with thousands separators: 1,204."""
    return f"{value:,}"


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
