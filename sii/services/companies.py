"""Companies: creation with a validated RUT (reads live in sii.selectors)."""

from django.db import transaction
from django.utils import timezone

from sii import rut as rut_helpers
from sii.models import Company, Subscription


class CompanyWithoutCredentials(Exception):
    """The company has no SII password stored, so nothing can be synced for it."""

    def __init__(self, message: str = "Company has no SII credentials") -> None:
        super().__init__(message)


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
