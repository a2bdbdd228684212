"""The one place that builds an SII client for a company (base URLs from settings)."""

from sii.client.http import SiiClient
from sii.models import Company
from sii.services.companies import CompanyWithoutCredentials


def sii_client_for(company: Company) -> SiiClient:
    if not company.has_sii_credentials:
        raise CompanyWithoutCredentials()
    return SiiClient(rut=company.rut, password=company.get_sii_password())
