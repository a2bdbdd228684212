"""Optional error reporting to Sentry, with SII passwords, keys and API tokens scrubbed out."""

import logging
import re
from collections.abc import Iterable
from typing import Any

import sentry_sdk
from django.core.exceptions import ImproperlyConfigured
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber
from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint
from sentry_sdk.utils import BadDsn

FILTERED = "[Filtered]"
# A key naming one of these holds a secret wherever it appears: request data and headers,
# extra, contexts, a stack frame's local variables, breadcrumbs, Celery task kwargs.
SECRET_KEY_PATTERN = re.compile(
    r"password|passwd|clave|token|secret|authorization|cookie|key|session|csrf", re.I
)
# Secrets recognisable by their shape inside any string (an exception message, a log line):
SECRET_VALUE_PATTERNS = [
    (re.compile(r"\b(Token|Bearer|Basic)\s+[\w.~+/=-]{8,}"), rf"\1 {FILTERED}"),  # an Authorization value
    (re.compile(r"gAAAAA[\w=-]{20,}"), FILTERED),  # a Fernet token: an encrypted SII password
    (re.compile(r"\b[0-9a-f]{64}\b"), FILTERED),  # a knox API token (64 hex characters)
    # name=value in a query string, a cookie header or a message
    (
        re.compile(
            r"(?:^|(?<=[?&;,\s]))([\w-]*(?:password|clave|token|secret|key|session|csrf)[\w-]*)=[^&;,\s]+",
            re.I,
        ),
        rf"\1={FILTERED}",
    ),
]
# EventScrubber matches whole keys: Sentry's defaults plus this project's names.
DENYLIST = [*DEFAULT_DENYLIST, "clave", "sii_password", "sii_password_encrypted", "password_encrypted", "key"]


def sentry_init(
    *, dsn: str, environment: str, release: str | None, traces_sample_rate: float, secrets: Iterable[str]
) -> None:
    """Start the SDK for this process (web, worker or beat); `secrets` never leave it."""
    scrub = Scrubber(secrets=secrets)
    try:
        # https://docs.sentry.io/platforms/python/integrations/django/
        sentry_sdk.init(
            dsn=dsn,
            environment=environment,
            release=release,
            traces_sample_rate=traces_sample_rate,
            # send_default_pii stays unset, which is off (no user emails, IPs or cookies): in 2.x
            # setting it is deprecated, and its successor, data_collection, turns event_scrubber off.
            event_scrubber=EventScrubber(denylist=DENYLIST, recursive=True),
            before_send=scrub.event,
            before_send_transaction=scrub.event,
            before_breadcrumb=scrub.breadcrumb,
            integrations=[
                DjangoIntegration(),
                # Beat's schedules are the database's; Sentry's cron monitors would duplicate them.
                CeleryIntegration(monitor_beat_tasks=False),
                LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
            ],
        )
    except BadDsn as exc:
        raise ImproperlyConfigured(f"SENTRY_DSN is not a valid Sentry DSN: {exc}") from None


class Scrubber:
    """Value-level scrubbing after EventScrubber's: keys by pattern, secrets inside strings."""

    def __init__(self, *, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def event(self, event: Event, hint: Hint) -> Event:
        return self.clean(event)

    def breadcrumb(self, crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb:
        return self.clean(crumb)

    def clean(self, value: Any, secret: bool = False) -> Any:
        """`value` with every secret replaced; everything under a secret-named key goes."""
        if isinstance(value, dict):
            return {
                k: v if k == "_meta" else self.clean(v, secret or bool(SECRET_KEY_PATTERN.search(str(k))))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.clean(item, secret) for item in value]
        if secret and value not in (None, "", FILTERED):
            return FILTERED
        return self.clean_text(value) if isinstance(value, str) else value

    def clean_text(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, FILTERED)
        for pattern, replacement in SECRET_VALUE_PATTERNS:
            text = pattern.sub(replacement, text)
        return text
