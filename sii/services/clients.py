"""The one place that builds an SII client for a company, and the one that reads its settings."""

from django.conf import settings

from sii.client.http import SiiClient, SiiClientConfig
from sii.metrics import sii_call_count, sii_request_time
from sii.models import Company
from sii.services.companies import CompanyWithoutCredentials


def sii_client_for(company: Company) -> SiiClient:
    """A client for the company's SII account (it logs in on first use), configured by SII_* settings."""
    if not company.has_sii_credentials:
        raise CompanyWithoutCredentials()
    return SiiClient(rut=company.rut, password=company.get_sii_password(), config=sii_client_config())


def sii_client_config() -> SiiClientConfig:
    # Read on every call, not at import: tests and override_settings change these.
    return SiiClientConfig(
        base_urls=settings.SII_BASE_URLS,
        timeout=settings.SII_HTTP_TIMEOUT,
        request_interval=settings.SII_REQUEST_INTERVAL,
        on_call=sii_call_count,
        on_request=sii_request_time,
    )
