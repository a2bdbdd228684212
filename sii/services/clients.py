"""The one place that builds an SII client for a company, and the one that reads its settings."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from sii.client.http import SiiClient, SiiClientConfig
from sii.client.sessions import SessionCookies
from sii.governor.gate import GovernorConfig, SiiGovernor, Wait
from sii.governor.rules import BreakerRule, Pace
from sii.governor.stores import FileStore, RedisStore, Store
from sii.metrics import sii_call_count, sii_request_time
from sii.models import Company
from sii.services.companies import CompanyWithoutCredentials
from sii.services.sessions import company_session_store

WaitReport = Callable[[Wait | None], None]
# The governor spaces requests for 95 % of each cap: a request that leaves late (a loaded host) or
# arrives late (the network) then still lands in a second that has room for it (make rehearse
# measured 85 in one second at a 100 % pace of 80 on a loaded 2-core machine).
PACE_SHARE = 0.95


def sii_client_for(company: Company, *, on_wait: WaitReport | None = None) -> SiiClient:
    """A client for the company's SII account, configured by SII_* settings: it carries on the
    company's kept SII session (else logs in on first use, keeping the new one for the next syncs),
    and paces and pauses its requests with every other worker's (`on_wait` hears the long waits)."""
    if not company.has_sii_credentials:
        raise CompanyWithoutCredentials()
    kept = settings.SII_SESSION_MAX_AGE > 0
    return SiiClient(
        rut=company.rut,
        password=company.get_sii_password(),
        config=sii_client_config(),
        gate=sii_governor(on_wait=on_wait),
        session=company.sii_session() if kept else None,
        on_session=partial(_session_kept, company) if kept else None,
    )


def _session_kept(company: Company, cookies: SessionCookies | None) -> None:
    company_session_store(company=company, cookies=cookies)


def sii_client_config() -> SiiClientConfig:
    # Read on every call, not at import: tests and override_settings change these.
    return SiiClientConfig(
        base_urls=settings.SII_BASE_URLS,
        timeout=settings.SII_HTTP_TIMEOUT,
        request_interval=settings.SII_REQUEST_INTERVAL,
        on_call=sii_call_count,
        on_request=sii_request_time,
    )


def sii_governor(*, on_wait: WaitReport | None = None) -> SiiGovernor:
    """The deployment's governor, as one client sees it (its pause budget is its own)."""
    config = GovernorConfig(
        paces={
            surface: Pace(rate * PACE_SHARE, settings.SII_RATE_BURST)
            for surface, rate in settings.SII_RATES.items()
        },
        breaker=BreakerRule(
            threshold=settings.SII_BREAKER_THRESHOLD,
            backoff=settings.SII_BREAKER_BACKOFF,
            max_backoff=settings.SII_BREAKER_MAX_BACKOFF,
            probe_timeout=settings.SII_HTTP_TIMEOUT + 5,
        ),
        max_pause=settings.SII_PAUSE_WAIT_SECONDS,
    )
    store = _store(settings.SII_GOVERNOR_REDIS_URL, settings.SII_GOVERNOR_DIR, settings.REDIS_TIMEOUT)
    return SiiGovernor(store=store, config=config, on_wait=on_wait or _ignored)


@cache  # one Redis connection pool per process
def _store(redis_url: str, folder: Path, timeout: float) -> Store:
    return RedisStore(url=redis_url, timeout=timeout) if redis_url else FileStore(folder=folder)


def wait_text(wait: Wait) -> str:
    """A wait as its run shows it: "the SII has been unavailable since 02:14 (rcv)"."""
    if wait.kind == "paused":
        since = timezone.localtime(datetime.fromtimestamp(wait.since, UTC))
        return f"the SII has been unavailable since {since:%H:%M} ({wait.surface})"
    return f"the SII's pace ({wait.surface}): about {wait.seconds:.0f} s"


def _ignored(_: Wait | None) -> None:
    """Waits reported nowhere (a sync run outside a task)."""
