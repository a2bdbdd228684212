"""A view and a task that fail while holding secrets, for the Sentry scrubbing tests."""

from celery import shared_task
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from sii.models import Company

QUEUE = "sentry-test"  # its own queue: a session worker without Sentry must not take the task


def boom_view(request: HttpRequest, company_id: str) -> HttpResponse:
    company = Company.objects.get(pk=company_id)
    clave = company.get_sii_password()  # noqa: F841 (a local variable Sentry would capture)
    stored = company.sii_password_encrypted  # noqa: F841 (named so that only its shape gives it away)
    current, retired = settings.SII_CREDENTIALS_KEY, settings.SII_CREDENTIALS_OLD_KEYS  # noqa: F841
    auth_line = request.headers["Authorization"]  # noqa: F841 (a neutral name for a token)
    raise RuntimeError(f"The view broke for company {company.rut}")


@shared_task(name="tests.sentry_boom")
def boom_task(company_id: str, api_token: str) -> None:
    company = Company.objects.get(pk=company_id)
    clave = company.get_sii_password()  # noqa: F841 (a local variable Sentry would capture)
    stored = company.sii_password_encrypted  # noqa: F841
    raise RuntimeError(f"The task broke for company {company.rut}")


urlpatterns = [*project_urlpatterns, path("boom/<uuid:company_id>", boom_view)]
