"""The companies' sync actions: launch catalog tasks exactly as the API does, then say what happened."""

from collections.abc import Iterable

from django.contrib import messages
from django.utils.html import format_html, format_html_join

from sii.models import Company
from tasks_api.admin import display
from tasks_api.models import TaskLaunch
from tasks_api.services.catalog import task_launch_validated
from tasks_api.services.launches import TaskLaunchFailed


def company_sync_launch(*, company: Company, task_type: str, user) -> TaskLaunch:
    """Launch a per-company task with the catalog's defaults (months, year ...) filled in."""
    return task_launch_validated(task_type=task_type, data={"company_id": str(company.pk)}, user=user)


def companies_sync(modeladmin, request, companies: Iterable[Company], *, task_type: str) -> None:
    """Launch `task_type` for each company that has SII credentials; report through messages."""
    companies = list(companies)
    if skipped := [company.name for company in companies if not company.has_sii_credentials]:
        modeladmin.message_user(
            request, f"Skipped (no SII credentials): {', '.join(skipped)}", messages.WARNING
        )
    ready = [company for company in companies if company.has_sii_credentials]
    launched, failure = _launch_each(ready, task_type=task_type, user=request.user)
    if failure:
        modeladmin.message_user(request, failure, messages.ERROR)
    if launched:
        modeladmin.message_user(request, _launched_message(task_type, launched), messages.SUCCESS)


def _launch_each(companies: list[Company], *, task_type: str, user) -> tuple[list, str]:
    """Launch for each company, stopping at the first publish the broker refuses."""
    launched = []
    for company in companies:
        try:
            launched.append((company, company_sync_launch(company=company, task_type=task_type, user=user)))
        except TaskLaunchFailed as exc:
            # The broker is down or mute: each further publish would wait as long and fail too.
            left = len(companies) - len(launched) - 1
            return launched, f"{exc} (for {company.name}; {left} more not attempted)"
    return launched, ""


def _launched_message(task_type: str, launched: list[tuple[Company, TaskLaunch]]) -> str:
    runs = format_html_join(
        ", ", "{} ({})", ((display.run_link(launch.task_id), company.name) for company, launch in launched)
    )
    return format_html("Launched {} for {} company(ies): {}", task_type, len(launched), runs)
