"""The dashboard's companies section: the companies whose last sync failed, with the reason."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from sii import selectors
from sii.admin.columns import run_state
from sii.admin.company_pages import KIND_LABELS
from tasks_api import console

SHOWN = 10
REASON_CHARS = 120
LINK = '<a href="{}" class="font-medium text-primary-600 dark:text-primary-500">{}</a>'


def failing_companies(request) -> SafeString:
    """The companies whose most recent sync run failed: the first ten with the failing run and
    why, how many there are, and the link to all of them. Empty for staff who may see neither
    companies nor runs."""
    may_see_companies = request.user.has_perm("sii.view_company")
    if not (may_see_companies or request.user.has_perm(console.VIEW)):
        return mark_safe("")
    failing = selectors.companies_failing(limit=SHOWN)
    rows = [_row(row, link_company=may_see_companies) for row in failing.top]
    context = {
        "total": failing.total,
        "table": {"headers": ["Company", "Sync", "Failed", "Reason"], "rows": rows},
        "footer": _footer(failing.total) if may_see_companies and failing.total else "",
    }
    return mark_safe(render_to_string("admin/sii/dashboard/failing_companies.html", context))  # noqa: S308  # a template


def failing_companies_url() -> str:
    return reverse("admin:sii_company_changelist") + "?last_sync=failed"


def _row(row: selectors.FailingCompany, *, link_company: bool) -> list:
    company, run = row.company, row.run
    page = reverse("admin:sii_company_change", args=[company.pk])
    kinds = {task_type: KIND_LABELS[kind] for kind, task_type in selectors.SYNC_TASK_TYPES.items()}
    return [
        format_html(LINK, page, company.name) if link_company else company.name,
        kinds.get(run.task_type, run.task_type),
        run_state(run.status, run.created_at, run.task_id),
        format_html('<span title="{}">{}</span>', row.error, Truncator(row.error).chars(REASON_CHARS)),
    ]


def _footer(total: int) -> SafeString:
    text = (
        f"All {total} companies whose last sync failed"
        if total != 1
        else "The company whose last sync failed"
    )
    return format_html(LINK, failing_companies_url(), text)
