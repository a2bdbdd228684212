"""Key rotation: every stored SII password re-encrypted under SII_CREDENTIALS_KEY (rotate_sii_keys)."""

from dataclasses import dataclass, field
from uuid import UUID

from django.db import transaction

from sii import crypto
from sii.models import Company


@dataclass
class KeyRotation:
    """What a rotation did; `unreadable` lists the companies no configured key decrypts."""

    rotated: int = 0
    current: int = 0
    unreadable: list[Company] = field(default_factory=list)


def company_passwords_rotate(*, batch_size: int = 500) -> KeyRotation:
    """Re-encrypt under the current key every stored password an old key encrypted, in batches.

    Running it again rotates nothing more. A password no key decrypts is left as it is and reported.
    """
    outcome = KeyRotation()
    after: UUID | None = None
    while batch := _batch(after=after, size=batch_size):
        with transaction.atomic():
            for company in batch:
                _rotate(company, outcome)
        after = batch[-1].pk
    return outcome


def _batch(*, after: UUID | None, size: int) -> list[Company]:
    companies = Company.objects.with_sii_credentials().order_by("pk")
    if after is not None:
        companies = companies.filter(pk__gt=after)
    return list(companies.only("name", "rut_body", "rut_dv", "sii_password_encrypted")[:size])


def _rotate(company: Company, outcome: KeyRotation) -> None:
    token = company.sii_password_encrypted
    if crypto.is_current(token):
        outcome.current += 1
        return
    try:
        rotated = crypto.rotate(token)
    except crypto.CredentialsUnreadable:
        outcome.unreadable.append(company)
        return
    # Only over the token read: a clave an operator stored meanwhile is already under the current
    # key. One column, so the clave's accepted/rejected state and updated_at stay as they were.
    stored = Company.objects.filter(pk=company.pk, sii_password_encrypted=token)
    outcome.rotated += stored.update(sii_password_encrypted=rotated)
