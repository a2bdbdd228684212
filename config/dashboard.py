"""The admin's home: tasks_api's sections and the sii app's panels (UNFOLD["DASHBOARD_CALLBACK"])."""

from typing import Any

from django.http import HttpRequest

from sii.admin.dashboard import failing_companies
from sii.admin.freshness import stale_companies
from tasks_api.console.dashboard import dashboard_sections, runs_visible


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """unfold calls this for the index page; the template shows the app list without `dashboard`."""
    if not runs_visible(request):
        return context
    context["title"] = "Dashboard"
    context["dashboard"] = dashboard_sections(request)
    context["dashboard_panels"] = [failing_companies(request), stale_companies(request)]
    return context
