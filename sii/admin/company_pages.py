"""What a company's admin page says of its syncs: the clave's state, last runs per kind, recent runs."""

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from sii import selectors
from sii.admin.columns import STATUS_VARIANTS, label, run_state, run_url, when_text
from sii.models import Company
from tasks_api.console import duration_text

KIND_LABELS = {"documents": "Documents", "f29": "F29"}
# The field that fixes a rejected clave, on the company's change form.
CLAVE_FIELD_ID = "id_sii_password"


@dataclass(frozen=True)
class CredentialsState:
    text: str
    icon: str  # a Material Symbols name, as unfold's own icons
    tone: str  # Tailwind classes present in unfold's stylesheet
    fix_text: str = ""
    fix_url: str = ""


def password_field_url(company: Company) -> str:
    return reverse("admin:sii_company_change", args=[company.pk]) + f"#{CLAVE_FIELD_ID}"


def credentials_state(company: Company) -> CredentialsState:
    """From the clave's last login outcome: rejected (with the way to fix it), accepted, untried."""
    if company.sii_password_rejected_at is not None:
        when = when_text(company.sii_password_rejected_at)
        red = "text-red-600 dark:text-red-500"
        return CredentialsState(
            f"Rejected by the SII on {when}", "error", red, "change the clave", password_field_url(company)
        )
    if not company.has_sii_credentials:
        return CredentialsState(
            "No clave stored", "key_off", "text-base-400", "add it", password_field_url(company)
        )
    if company.sii_password_accepted_at is not None:
        green = "text-green-700 dark:text-green-400"
        return CredentialsState(
            f"Accepted by the SII on {when_text(company.sii_password_accepted_at)}", "check_circle", green
        )
    return CredentialsState("Never tried", "help", "text-base-400")


def credentials_html(company: Company) -> SafeString:
    context = {"state": credentials_state(company)}
    return mark_safe(render_to_string("admin/sii/company/credentials.html", context))  # noqa: S308  # a template


def last_syncs_html(company: Company) -> SafeString:
    """Each kind's last sync run: its state (linked), when, and how long it took."""
    lines = (
        (KIND_LABELS[kind], _state_of(run), _took(run))
        for kind, run in selectors.company_last_syncs(company_id=company.pk).items()
    )
    return format_html(
        "<div data-last-syncs>{}</div>", format_html_join("", '<div class="mb-2">{}: {}{}</div>', lines)
    )


def last_failure_html(company: Company) -> SafeString:
    """The company's most recent failed sync: when, which, and why, in words."""
    run = selectors.company_last_failure(company_id=company.pk)
    if run is None:
        return format_html('<span class="text-base-500" data-last-failure>{}</span>', "No failed sync")
    return format_html(
        '<div data-last-failure><div class="mb-2">{} {} sync</div><div class="leading-relaxed break-words">{}</div></div>',
        _state_of(run),
        _kind_of(run.task_type),
        selectors.run_error(run),
    )


def recent_runs_html(company: Company, *, limit: int = 10) -> SafeString:
    """A small table of the company's last runs, and the link to all of them."""
    runs = selectors.company_recent_runs(company_id=company.pk, limit=limit)
    rows = [
        [
            format_html(
                '<a href="{}" class="text-primary-600 dark:text-primary-500">{}</a>',
                run_url(run.task_id),
                run.task_id[:8],
            ),
            run.task_type,
            label(run.status, variant=STATUS_VARIANTS.get(run.status)),
            when_text(run.created_at),
            duration_text(run.duration.total_seconds() if run.duration else None),
        ]
        for run in runs
    ]
    context = {
        "table": {"headers": ["Run", "Task", "Status", "Launched", "Duration"], "rows": rows},
        "all_runs_url": company_runs_url(company),
        "shown": len(runs),
    }
    return mark_safe(render_to_string("admin/sii/company/recent_runs.html", context))  # noqa: S308  # a template


def company_runs_url(company: Company) -> str:
    """The runs list filtered to the company (the runs admin takes its subject as a lookup)."""
    return reverse("admin:tasks_api_tasklaunch_changelist") + f"?subject_id={company.pk}"


def _state_of(run) -> SafeString:
    return run_state(run.status, run.created_at, run.task_id) if run else run_state(None, None, None)


def _took(run) -> str:
    return f" · {duration_text(run.duration.total_seconds())}" if run and run.duration else ""


def _kind_of(task_type: str) -> str:
    kinds = {task: KIND_LABELS[kind] for kind, task in selectors.SYNC_TASK_TYPES.items()}
    return kinds.get(task_type, task_type)
