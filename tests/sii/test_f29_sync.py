"""f29_sync against the in-process simulator, over the real HTTP client."""

import pytest

from sii.models import F29Declaration
from sii.services.f29 import f29_sync
from sii.services.periods import current_year, periods_of_year, today
from sii.simulator import data

pytestmark = pytest.mark.django_db


def test_sync_stores_every_declaration_of_the_year(company, client_for):
    year = str(today().year - 1)

    result = f29_sync(company=company, year=year, client=client_for(company))

    expected = [
        row
        for period in periods_of_year(year=year)
        for row in data.f29_declarations(company.rut_body, period, today())
    ]
    assert F29Declaration.objects.filter(company=company).count() == len(expected) > 0
    assert result["f29"]["created"] == len(expected)
    assert result["f29"]["period"] == f"{year}12"
    assert sorted(result["f29"]["periods"]) == [f"{year}{m:02d}" for m in range(1, 13)]


def test_resync_of_f29_creates_nothing(company, client_for):
    year = str(today().year - 1)
    f29_sync(company=company, year=year, client=client_for(company))

    again = f29_sync(company=company, year=year, client=client_for(company))

    assert again["f29"]["created"] == 0
    assert again["f29"]["updated"] == 0


def test_the_current_year_only_asks_for_months_that_have_begun(company, client_for):
    result = f29_sync(company=company, year=current_year(), client=client_for(company))

    assert len(result["f29"]["periods"]) == today().month


def test_the_declared_total_matches_what_the_sii_lists(company, client_for):
    year = str(today().year - 1)
    f29_sync(company=company, year=year, client=client_for(company))

    for declaration in F29Declaration.objects.filter(company=company):
        assert declaration.total_a_pagar == declaration.raw["monto"]
