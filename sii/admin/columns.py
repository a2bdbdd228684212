"""Shared admin pieces: RUT search in any spelling, peso amounts, the raw SII row, run states, times."""

import functools
import json
from collections.abc import Callable
from datetime import datetime

from django.contrib import admin
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from sii import rut, selectors

# unfold's label colours for the run states.
STATUS_VARIANTS = {
    "SUCCESS": "success",
    "FAILURE": "danger",
    "REVOKED": "warning",
    "STARTED": "info",
    "RETRY": "info",
}


class RutSearchMixin:
    """Also match a RUT column when the search term is a RUT: '76.086.428-5', '76086428' ..."""

    rut_search_field = "rut_body"
    extra_rut_search_fields: tuple[str, ...] = ()  # more RUT columns a RUT term also matches

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        search = super().get_search_results  # type: ignore[misc]  # provided by the ModelAdmin
        results, may_have_duplicates = search(request, queryset, search_term)
        if bodies := selectors.rut_bodies_matching(search_term):
            for name in (self.rut_search_field, *self.extra_rut_search_fields):
                results |= queryset.filter(**{f"{name}__in": bodies})
        return results, may_have_duplicates


def pesos(value: int | None) -> str:
    """Chilean display of an amount: 1.234.567."""
    return "—" if value is None else f"{value:,}".replace(",", ".")


def amount_column(field: str, label: str, *, ordering: str | None = None):
    """A ModelAdmin method showing a peso amount (a field or property) with dots, sortable by
    that field, or by `ordering` (an annotation) when it is a property."""

    @admin.display(description=label, ordering=ordering or field)
    def column(modeladmin, row) -> str:
        return pesos(getattr(row, field))

    return column


def rut_column(body_field: str, dv_field: str, label: str):
    """A ModelAdmin method showing a RUT stored as body + check digit, formatted."""

    @admin.display(description=label, ordering=body_field)
    def column(modeladmin, row) -> str:
        return rut.Rut(body=getattr(row, body_field), dv=getattr(row, dv_field)).formatted

    return column


@admin.display(description="Raw SII row")
def raw_row(modeladmin, row) -> str:
    return format_html("<pre>{}</pre>", json.dumps(row.raw, indent=2, ensure_ascii=False))


def when_text(moment: datetime | None) -> str:
    """A moment in local time as operators read it: '28 Nov 14:03' ('28 Nov 2025 14:03' in another year)."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    year = "" if local.year == timezone.localdate().year else f" {local.year}"
    return f"{local.day} {local:%b}{year} {local:%H:%M}"


def run_url(task_id: str) -> str:
    return reverse("admin:tasks_api_tasklaunch_change", args=[task_id])


def label(text: str, *, variant: str | None = None, href: str = "", title: str = "") -> SafeString:
    """unfold's label (a small coloured tag), a link when `href` is given."""
    context = {"text": text, "variant": variant, "href": href, "label_title": title}
    return mark_safe(render_to_string("unfold/helpers/label.html", context))  # noqa: S308  # escaped by the template


def run_state(status: str | None, at: datetime | None, task_id: str | None) -> SafeString:
    """A run's state as a label linking to the run, and when it was launched; "never" without one."""
    if not task_id or status is None:
        return format_html('<span class="text-base-500">{}</span>', "never")
    tag = label(status, variant=STATUS_VARIANTS.get(status), href=run_url(task_id), title=f"Run {task_id}")
    return format_html(
        '<span class="inline-flex items-center gap-2 whitespace-nowrap">{} {}</span>', tag, when_text(at)
    )


def once_per_object(method: Callable) -> Callable:
    """For a read-only field: unfold's page evaluates each several times; compute it once per object."""

    @functools.wraps(method)
    def cached(modeladmin, obj):
        cache = obj.__dict__.setdefault("_admin_display_cache", {})
        if method.__name__ not in cache:
            cache[method.__name__] = method(modeladmin, obj)
        return cache[method.__name__]

    return cached
