"""Freshness in the admin: the companies' "data freshness" filter, the dashboard's card, the company page."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from sii.admin.freshness import stale_companies
from tests.factories import CompanyFactory, SurfaceSyncFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:sii_company_changelist")
HOUR = timedelta(hours=1)
SURFACES = ("purchases", "sales", "fee_receipts", "f29")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2025, 7, 15, 12, 0, tzinfo=ZoneInfo("America/Santiago")), tick=False):
        yield


def synced(company, *surfaces: str, ago: timedelta = HOUR, **fields) -> None:
    for surface in surfaces or SURFACES:
        SurfaceSyncFactory(company=company, surface=surface, last_synced_at=timezone.now() - ago, **fields)


@pytest.fixture
def companies():
    """Fresh everywhere; stale on F29 only; never synced; not covered (no clave)."""
    fresh, f29_stale, never = (CompanyFactory(subscribed=True, name=n) for n in ("Fresh", "Old F29", "Never"))
    synced(fresh)
    synced(f29_stale, "purchases", "sales", "fee_receipts")
    synced(f29_stale, "f29", ago=30 * HOUR)
    CompanyFactory(subscribed=True, without_credentials=True, name="No clave")
    return {"fresh": fresh, "f29_stale": f29_stale, "never": never}


def listed(client, freshness: str) -> set[str]:
    response = client.get(CHANGELIST, {"freshness": freshness})
    assert response.status_code == 200
    return {company.name for company in response.context["cl"].result_list}


def request_by(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_the_filter_lists_companies_stale_on_any_surface_or_on_one_or_fresh_on_every_one(
    client, superuser, companies
):
    assert listed(client, "stale") == {"Old F29", "Never"}
    assert listed(client, "stale_f29") == {"Old F29", "Never"}
    assert listed(client, "stale_purchases") == {"Never"}
    assert listed(client, "fresh") == {"Fresh"}


def test_the_filter_offers_any_surface_each_surface_and_fresh(client, superuser):
    html = client.get(CHANGELIST).content.decode()

    assert "data freshness" in html
    for choice in (
        "Stale (any surface)",
        "Stale RCV purchases",
        "Stale Fee receipts",
        "Fresh (every surface)",
    ):
        assert choice in html


def test_the_dashboard_card_counts_the_stale_companies_per_surface_linking_to_the_filtered_list(
    superuser, companies
):
    html = stale_companies(request_by(superuser))

    assert 'data-section="stale-companies"' in html
    assert f'href="{CHANGELIST}?freshness=stale_f29"' in html
    assert f'href="{CHANGELIST}?freshness=stale_purchases"' in html
    assert f'href="{CHANGELIST}?freshness=stale"' in html
    assert "All 2 companies with stale data" in html
    assert "last 26 hours" in html


def test_the_dashboard_shows_the_card_to_operators(client, superuser, companies):
    response = client.get(reverse("admin:index"))

    assert 'data-section="stale-companies"' in response.content.decode()


def test_the_dashboard_card_says_nothing_links_when_every_company_is_fresh(superuser):
    synced(CompanyFactory(subscribed=True))

    html = stale_companies(request_by(superuser))

    assert "freshness=" not in html
    assert "companies with stale data" not in html


def test_the_dashboard_card_is_empty_for_staff_who_may_not_see_companies():
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_purchasedocument"))

    assert stale_companies(request_by(user)) == ""


def test_the_company_page_shows_each_surface_s_last_sync_periods_and_state(client, superuser):
    company = CompanyFactory(subscribed=True)
    synced(company, "purchases", "sales")
    synced(company, "fee_receipts", ago=30 * HOUR, first_period="202507", last_period="202507")
    synced(company, "f29", ago=2 * HOUR, first_period="", last_period="")  # backfilled

    html = client.get(reverse("admin:sii_company_change", args=[company.pk])).content.decode()

    table = html[html.index("data-freshness") :]
    assert "Data freshness" in html
    assert "202506 to 202507" in table
    assert "14 Jul 06:00" in table  # the fee receipts' sync, 30 hours before
    assert "unknown" in table
    assert (table.count('data-state="fresh"'), table.count('data-state="stale"')) == (3, 1)


def test_a_company_no_nightly_sync_covers_is_neither_fresh_nor_stale_on_its_page(client, superuser):
    company = CompanyFactory(without_credentials=True)

    html = client.get(reverse("admin:sii_company_change", args=[company.pk])).content.decode()

    table = html[html.index("data-freshness") :]
    assert table.count('data-state="uncovered"') == 4
    assert "not synced nightly" in table
    assert "never" in table
