"""The companies' sync actions: launch catalog tasks exactly as the API does, then say what happened."""

from collections.abc import Iterable

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.dataclasses import ActionDialog

from sii.models import Company
from tasks_api.console import run_link
from tasks_api.launching import TaskLaunchFailed, task_launch_validated
from tasks_api.runs import TaskLaunch


def company_sync_launch(*, company: Company, task_type: str, user) -> TaskLaunch:
    """Launch a per-company task with the catalog's defaults (months, year ...) filled in."""
    return task_launch_validated(task_type=task_type, data={"company_id": str(company.pk)}, user=user)


def companies_sync(modeladmin, request, companies: Iterable[Company], *, task_type: str) -> None:
    """Launch `task_type` for each company with a clave the SII has not rejected; report
    through messages (a rejected clave would only fail the run at once, as the fan-outs know)."""
    companies = list(companies)
    if skipped := [company.name for company in companies if not company.has_sii_credentials]:
        modeladmin.message_user(
            request, f"Skipped (no SII credentials): {', '.join(skipped)}", messages.WARNING
        )
    if rejected := [company.name for company in companies if company.sii_password_rejected_at]:
        modeladmin.message_user(
            request,
            f"Skipped (the SII rejected the clave; change it first): {', '.join(rejected)}",
            messages.WARNING,
        )
    ready = [c for c in companies if c.has_sii_credentials and c.sii_password_rejected_at is None]
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
        ", ", "{} ({})", ((run_link(launch.task_id), company.name) for company, launch in launched)
    )
    return format_html("Launched {} for {} company(ies): {}", task_type, len(launched), runs)


def company_sync_dialog(task_type: str) -> ActionDialog:
    """The confirmation a company page's sync button opens (unfold's action dialog)."""
    return {
        "title": f"Launch {task_type} for this company?",
        "description": "With the catalog's defaults, as the API launches it; the run appears under Recent runs.",
        "form_class": None,
        "form_submit_text": "Sync now",
    }


def company_sync_from_page(modeladmin, request, object_id: str, *, task_type: str) -> HttpResponse:
    """The company page's sync button, once confirmed: launch, then back to the page with a message."""
    company = modeladmin.get_object(request, object_id)
    if company is None:
        raise Http404("No such company")
    companies_sync(modeladmin, request, [company], task_type=task_type)
    page = reverse("admin:sii_company_change", args=[company.pk])
    if request.headers.get("HX-Request"):  # the dialog posts through htmx: have it load the page
        return HttpResponse(headers={"HX-Redirect": page})
    return HttpResponseRedirect(page)
