"""A clave's last login outcome, kept on the company: rejected (no login until replaced) or accepted."""

from datetime import datetime

from django.utils import timezone

from sii.models import Company


class CompanyClaveRejected(Exception):
    """The SII rejected the company's stored clave; a sync refuses to log in until it changes.

    Permanent (never retried): the SII locks an account after repeated wrong logins.
    """


def clave_rejected_at_text(rejected_at: datetime) -> str:
    """When the SII rejected a clave, in local time to the minute: '2026-11-28 14:03'."""
    return timezone.localtime(rejected_at).strftime("%Y-%m-%d %H:%M")


def clave_rejected_message(rejected_at: datetime) -> str:
    when = clave_rejected_at_text(rejected_at)
    return f"The SII rejected this company's clave on {when}; update it in the admin to sync again"


def company_clave_check(*, company: Company) -> None:
    """Raise CompanyClaveRejected when the SII rejected the company's stored clave."""
    if company.sii_password_rejected_at is not None:
        raise CompanyClaveRejected(clave_rejected_message(company.sii_password_rejected_at))


def company_clave_reject(*, company: Company) -> None:
    """Record that the SII refused the clave this sync used: no sync logs in with it again."""
    # Only if that clave is still the stored one: an operator may have replaced it meanwhile, and
    # the new one deserves its attempt (each encryption differs, so re-entering it counts as new).
    Company.objects.filter(pk=company.pk, sii_password_encrypted=company.sii_password_encrypted).update(
        sii_password_rejected_at=timezone.now()
    )


def company_clave_accept(*, company: Company) -> None:
    """Record that the SII let this sync log in with the clave it used (the admin shows it)."""
    # As for a rejection: only while that clave is still the stored one.
    Company.objects.filter(pk=company.pk, sii_password_encrypted=company.sii_password_encrypted).update(
        sii_password_accepted_at=timezone.now()
    )
