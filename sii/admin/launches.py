"""The companies' sync actions: launch catalog tasks exactly as the API does, then say what happened."""

from collections.abc import Iterable

from django.contrib import messages
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from sii.models import Company
from tasks_api.models import TaskLaunch
from tasks_api.registry import task_type_get
from tasks_api.services.launches import TaskLaunchFailed, task_launch


def company_sync_launch(*, company: Company, task_type: str, user) -> TaskLaunch:
    """Launch a per-company task with the catalog's defaults (months, year ...) filled in."""
    params = task_type_get(task_type).params(data={"company_id": str(company.pk)})
    params.is_valid(raise_exception=True)
    return task_launch(
        task_type=task_type, params=params.task_kwargs(), launched_by=TaskLaunch.LaunchedBy.USER, user=user
    )


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
            return launched, f"Failed to launch task: {exc} (for {company.name}; {left} more not attempted)"
    return launched, ""


def _launched_message(task_type: str, launched: list[tuple[Company, TaskLaunch]]) -> str:
    runs = format_html_join(
        ", ", "{} ({})", ((_launch_link(launch.task_id), company.name) for company, launch in launched)
    )
    return format_html("Launched {} for {} company(ies): {}", task_type, len(launched), runs)


def _launch_link(task_id: str) -> str:
    try:
        url = reverse("admin:tasks_api_tasklaunch_change", args=[task_id])
    except NoReverseMatch:  # the launch records' admin is not registered
        return task_id
    return format_html('<a href="{}">{}</a>', url, task_id)
