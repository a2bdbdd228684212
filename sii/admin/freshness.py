"""Data freshness in the admin: the companies' filter, the dashboard's card and the company page's table."""

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from sii import selectors_freshness as freshness
from sii.admin.columns import label, when_text
from sii.models import Company, SurfaceSync

LINK = '<a href="{}" class="font-medium text-primary-600 dark:text-primary-500">{}</a>'
STALE, FRESH = "stale", "fresh"


class FreshnessFilter(admin.SimpleListFilter):
    """Stale on any surface (what needs looking at), on one (the dashboard's links), or fresh on all."""

    title = "data freshness"
    parameter_name = "freshness"

    def lookups(self, request, model_admin):
        one = [(f"{STALE}_{surface.value}", f"Stale {surface.label}") for surface in SurfaceSync.Surface]
        return [(STALE, "Stale (any surface)"), *one, (FRESH, "Fresh (every surface)")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        now, value = timezone.now(), self.value() or ""
        if value == FRESH:
            return queryset.filter(pk__in=freshness.companies_fresh(now=now).values("pk"))
        if value == STALE:
            return queryset.filter(pk__in=freshness.companies_stale(now=now).values("pk"))
        surface = value.removeprefix(f"{STALE}_")
        if surface != value and surface in freshness.SURFACES:
            return queryset.filter(pk__in=freshness.companies_stale(now=now, surface=surface).values("pk"))
        return queryset


def companies_url(value: str) -> str:
    return reverse("admin:sii_company_changelist") + f"?{FreshnessFilter.parameter_name}={value}"


def stale_companies(request) -> SafeString:
    """The dashboard's card: per surface, how many of the companies a nightly sync covers are
    stale, each count linking to them. Empty for staff who may not see companies."""
    if not request.user.has_perm("sii.view_company"):
        return mark_safe("")
    counts = freshness.freshness_counts(now=timezone.now())
    rows = [
        [surface.label, _count_link(counts.stale[surface.value], f"{STALE}_{surface.value}"),
         counts.covered[surface.value]]
        for surface in SurfaceSync.Surface
    ]  # fmt: skip
    context = {
        "total": counts.stale_anywhere,
        "table": {"headers": ["Surface", "Stale", "Covered by the nightly syncs"], "rows": rows},
        "footer": _footer(counts.stale_anywhere),
    }
    return mark_safe(render_to_string("admin/sii/dashboard/stale_companies.html", context))  # noqa: S308  # a template


def company_freshness_html(company: Company) -> SafeString:
    """The company page's table: each surface's last successful sync, its periods, fresh or stale."""
    rows = [_surface_row(row) for row in freshness.company_freshness(company=company, now=timezone.now())]
    context = {"table": {"headers": ["Surface", "Last synced", "Periods", "State"], "rows": rows}}
    return mark_safe(render_to_string("admin/sii/company/freshness.html", context))  # noqa: S308  # a template


def _count_link(count: int, value: str) -> SafeString | int:
    return format_html(LINK, companies_url(value), count) if count else 0


def _footer(total: int) -> SafeString:
    hours = settings.SII_FRESHNESS_TARGET_HOURS
    note = format_html("Stale: no successful sync in the last {} hours, or never.", hours)
    if not total:
        return note
    text = f"All {total} companies with stale data" if total != 1 else "The company with stale data"
    return format_html(
        '{}<span class="ml-auto">{}</span>', note, format_html(LINK, companies_url(STALE), text)
    )


def _surface_row(row: freshness.SurfaceFreshness) -> list:
    synced = row.last_sync
    return [
        row.label,
        when_text(synced.last_synced_at) if synced else "never",
        _periods_text(synced) if synced else "—",
        _state(row),
    ]


def _periods_text(synced: SurfaceSync) -> str:
    if not synced.first_period:
        return "unknown"  # recorded before the periods were kept
    if synced.first_period == synced.last_period:
        return synced.first_period
    return f"{synced.first_period} to {synced.last_period}"


def _state(row: freshness.SurfaceFreshness) -> SafeString:
    if row.fresh:
        state, tag = FRESH, label("fresh", variant="success")
    elif row.covered:
        state, tag = STALE, label("stale", variant="danger")
    else:
        why = "No clave the SII accepts, or (documents) no active subscription"
        state, tag = "uncovered", label("not synced nightly", title=why)
    return format_html('<span data-state="{}">{}</span>', state, tag)
