"""Companies: look-ups that fail with a clear error, creation with a validated RUT."""

import uuid

from django.db import transaction
from django.utils import timezone

from sii import rut as rut_helpers
from sii.models import Company, Subscription


class CompanyNotFound(Exception):
    """No company has that id; the task fails with this message and is not retried."""

    def __init__(self, message: str = "Company not found") -> None:
        super().__init__(message)


class CompanyWithoutCredentials(Exception):
    """The company has no SII password stored, so nothing can be synced for it."""

    def __init__(self, message: str = "Company has no SII credentials") -> None:
        super().__init__(message)


def company_get(*, company_id: str) -> Company:
    try:
        return Company.objects.get(pk=uuid.UUID(str(company_id)))
    except (ValueError, Company.DoesNotExist):
        raise CompanyNotFound() from None


@transaction.atomic
def company_create(*, name: str, rut: str, sii_password: str = "", subscribed: bool = True) -> Company:
    """Create a company from any spelling of its RUT, optionally with an active subscription."""
    parsed = rut_helpers.parse(rut)
    company = Company(name=name, rut_body=parsed.body, rut_dv=parsed.dv)
    company.set_sii_password(sii_password)
    company.full_clean()
    company.save()
    if subscribed:
        Subscription.objects.create(company=company, starts_on=timezone.localdate())
    return company


def company_ids_with_active_subscription() -> list[str]:
    return [str(pk) for pk in Company.objects.with_active_subscription().values_list("pk", flat=True)]


def company_ids_with_sii_credentials() -> list[str]:
    return [str(pk) for pk in Company.objects.with_sii_credentials().values_list("pk", flat=True)]
