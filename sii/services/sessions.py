"""A company's SII session, kept between syncs so that a night logs each company in once."""

import json
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from sii import crypto
from sii.client.sessions import SessionCookies
from sii.models import Company


def company_session_store(*, company: Company, cookies: SessionCookies | None) -> None:
    """Keep the session a login opened (encrypted, until SII_SESSION_MAX_AGE from now), or drop it."""
    if cookies is None:
        encrypted, expires_at = "", None
    else:
        encrypted = crypto.encrypt(json.dumps(cookies))
        expires_at = timezone.now() + timedelta(seconds=settings.SII_SESSION_MAX_AGE)
    # Only while the clave that opened it is the stored one: a new clave starts without a session.
    Company.objects.filter(pk=company.pk, sii_password_encrypted=company.sii_password_encrypted).update(
        sii_session_encrypted=encrypted, sii_session_expires_at=expires_at
    )
