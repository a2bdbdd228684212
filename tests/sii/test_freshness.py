"""Freshness: each surface's last successful sync per company, which companies are stale, /metrics."""

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sii.client.errors import SiiError
from sii.models import Company, SurfaceSync
from sii.selectors_freshness import companies_fresh, companies_stale, freshness_counts
from sii.services.documents import documents_sync
from sii.services.f29 import f29_sync
from sii.services.freshness import surface_sync_record
from sii.simulator.app import SiiSimulator
from sii.simulator.faults import BHE
from tests.factories import CompanyFactory, SurfaceSyncFactory
from tests.metrics import scrape, value

pytestmark = pytest.mark.django_db

SANTIAGO = ZoneInfo("America/Santiago")
NOW = datetime(2025, 7, 15, 12, 0, tzinfo=SANTIAGO)
HOUR = timedelta(hours=1)
PERIODS = ["202506", "202507"]
SURFACES = ("purchases", "sales", "fee_receipts", "f29")


@pytest.fixture
def clock():
    """Mid-July 2025 in Santiago, the clock still running (the SII client times its requests)."""
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def simulator(clock) -> SiiSimulator:
    # The conftest's, on the pinned clock: its data and the sync's periods agree on "today".
    return SiiSimulator(today=timezone.localdate())


def synced(company, *surfaces: str, ago: timedelta = HOUR) -> None:
    for surface in surfaces or SURFACES:
        assert surface_sync_record(company=company, surface=surface, periods=PERIODS, now=NOW - ago)


def recorded(company) -> dict[str, tuple[str, str]]:
    rows = SurfaceSync.objects.filter(company=company)
    return {row.surface: (row.first_period, row.last_period) for row in rows}


# Recording a sync


def test_a_sync_is_recorded_with_its_time_and_first_and_last_periods():
    company = CompanyFactory()

    assert surface_sync_record(company=company, surface="sales", periods=PERIODS, now=NOW)

    row = SurfaceSync.objects.get(company=company)
    assert (row.surface, row.last_synced_at, row.first_period, row.last_period) == ("sales", NOW, *PERIODS)


def test_recording_again_updates_the_company_s_one_row_in_one_statement():
    company = CompanyFactory()
    synced(company, "f29", ago=30 * HOUR)

    with CaptureQueriesContext(connection) as queries:
        surface_sync_record(company=company, surface="f29", periods=["202507"], now=NOW)

    assert len(queries) == 1
    row = SurfaceSync.objects.get(company=company)
    assert (row.last_synced_at, row.first_period, row.last_period) == (NOW, "202507", "202507")


def test_a_backfill_of_older_months_is_not_recorded():
    company = CompanyFactory()
    synced(company, "purchases", ago=30 * HOUR)

    assert not surface_sync_record(
        company=company, surface="purchases", periods=["202505", "202506"], now=NOW
    )
    assert not surface_sync_record(company=company, surface="f29", periods=[], now=NOW)

    assert SurfaceSync.objects.get(company=company).last_synced_at == NOW - 30 * HOUR


# Which companies are stale


def test_a_surface_synced_within_the_target_is_fresh_and_one_synced_before_it_is_stale(settings):
    settings.SII_FRESHNESS_TARGET_HOURS = 26
    company = CompanyFactory(subscribed=True)
    synced(company, "purchases", "sales", ago=25 * HOUR)
    synced(company, "fee_receipts", "f29", ago=27 * HOUR)

    counts = freshness_counts(now=NOW)

    assert counts.stale == {"purchases": 0, "sales": 0, "fee_receipts": 1, "f29": 1}
    assert counts.stale_anywhere == 1
    settings.SII_FRESHNESS_TARGET_HOURS = 28
    assert freshness_counts(now=NOW).stale_anywhere == 0


def test_a_covered_company_never_synced_is_stale_on_every_surface():
    CompanyFactory(subscribed=True)

    counts = freshness_counts(now=NOW)

    assert counts.stale == dict.fromkeys(SURFACES, 1)
    assert counts.stale_anywhere == 1


def test_only_companies_a_nightly_sync_covers_count_documents_needing_a_subscription():
    subscribed = CompanyFactory(subscribed=True)
    with_clave = CompanyFactory()  # F29's fan-out only
    CompanyFactory(subscribed=True, without_credentials=True)  # no sync can log in
    CompanyFactory(subscribed=True, sii_password_rejected_at=NOW)  # parked until the clave changes

    counts = freshness_counts(now=NOW)

    assert counts.covered == {"purchases": 1, "sales": 1, "fee_receipts": 1, "f29": 2}
    assert counts.stale == counts.covered
    assert set(companies_stale(now=NOW, surface="sales")) == {subscribed}
    assert set(companies_stale(now=NOW)) == {subscribed, with_clave}


def test_the_stale_and_fresh_lists_follow_each_surface():
    fresh, f29_stale, purchases_stale = (CompanyFactory(subscribed=True) for _ in range(3))
    synced(fresh)
    synced(f29_stale, "purchases", "sales", "fee_receipts")
    synced(purchases_stale, "sales", "fee_receipts", "f29")
    f29_only = CompanyFactory()
    synced(f29_only, "f29")

    assert set(companies_stale(now=NOW, surface="f29")) == {f29_stale}
    assert set(companies_stale(now=NOW, surface="purchases")) == {purchases_stale}
    assert set(companies_stale(now=NOW)) == {f29_stale, purchases_stale}
    assert set(companies_fresh(now=NOW)) == {fresh, f29_only}


def test_the_counts_take_one_query_however_many_companies(django_assert_num_queries):
    for n in range(12):
        company = CompanyFactory(subscribed=n % 2 == 0)
        synced(company, *SURFACES[: n % 5], ago=(n + 20) * HOUR)

    with django_assert_num_queries(1):
        counts = freshness_counts(now=NOW)

    assert counts.covered == {"purchases": 6, "sales": 6, "fee_receipts": 6, "f29": 12}
    assert sum(counts.stale.values()) > 0


# Real syncs, through the SII client, against the simulator


def test_a_documents_sync_records_each_surface_with_the_periods_it_saved(clock, company, client_for):
    before = timezone.now()
    documents_sync(company=company, months=2, client=client_for(company))

    assert recorded(company) == dict.fromkeys(("purchases", "sales", "fee_receipts"), ("202506", "202507"))
    times = SurfaceSync.objects.values_list("last_synced_at", flat=True)
    assert all(before <= at <= timezone.now() for at in times)
    counts = freshness_counts(now=timezone.now())
    assert counts.stale == {"purchases": 0, "sales": 0, "fee_receipts": 0, "f29": 1}


def test_a_sync_failing_on_fee_receipts_marks_only_purchases_and_sales_fresh(
    clock, company, client_for, simulator
):
    simulator.faults.add(BHE, "bhe_non_report", times=None)

    with pytest.raises(SiiError):
        documents_sync(company=company, months=1, client=client_for(company))

    assert recorded(company) == {"purchases": ("202507", "202507"), "sales": ("202507", "202507")}


class Stopped(Exception):
    """What a revoked run's progress callback raises."""


def test_a_surface_is_fresh_only_once_all_its_periods_are_saved(clock, company, client_for):
    def stop_at_the_second_month_s_sales(*, current, total, step):
        if step == "ventas 202507":
            raise Stopped()

    with pytest.raises(Stopped):
        documents_sync(
            company=company, months=2, client=client_for(company), progress=stop_at_the_second_month_s_sales
        )

    assert recorded(company) == {"purchases": ("202506", "202507")}


def test_an_f29_sync_of_the_current_year_records_its_months_and_one_of_last_year_nothing(
    clock, company, client_for
):
    f29_sync(company=company, year="2024", client=client_for(company))
    assert recorded(company) == {}

    f29_sync(company=company, year="2025", client=client_for(company))

    assert recorded(company) == {"f29": ("202501", "202507")}


# /metrics


def test_metrics_gauge_counts_the_stale_companies_of_each_surface(client, metrics_on):
    now = timezone.now()
    fresh = CompanyFactory(subscribed=True)
    for surface in SURFACES:
        SurfaceSyncFactory(company=fresh, surface=surface, last_synced_at=now - HOUR)
    stale = CompanyFactory(subscribed=True)
    SurfaceSyncFactory(company=stale, surface="purchases", last_synced_at=now - 30 * HOUR)
    SurfaceSyncFactory(company=stale, surface="sales", last_synced_at=now - HOUR)
    CompanyFactory()  # F29 only, never synced

    samples = scrape(client)

    assert {s: value(samples, "sii_companies_stale", surface=s) for s in SURFACES} == {
        "purchases": 1,
        "sales": 0,
        "fee_receipts": 1,
        "f29": 2,
    }


# The migration's backfill


def test_the_migration_backfills_each_surface_from_the_company_s_last_sync_times_without_periods():
    migration = importlib.import_module("sii.migrations.0007_surface_sync")
    both = CompanyFactory(last_documents_sync_at=NOW - HOUR, last_f29_sync_at=NOW - 2 * HOUR)
    documents_only = CompanyFactory(last_documents_sync_at=NOW)
    CompanyFactory()  # never synced: no row

    migration.backfill(apps, None)

    rows = SurfaceSync.objects.values_list(
        "company", "surface", "last_synced_at", "first_period", "last_period"
    )
    assert set(rows) == {
        (both.pk, "purchases", NOW - HOUR, "", ""),
        (both.pk, "sales", NOW - HOUR, "", ""),
        (both.pk, "fee_receipts", NOW - HOUR, "", ""),
        (both.pk, "f29", NOW - 2 * HOUR, "", ""),
        (documents_only.pk, "purchases", NOW, "", ""),
        (documents_only.pk, "sales", NOW, "", ""),
        (documents_only.pk, "fee_receipts", NOW, "", ""),
    }
    assert Company.objects.count() == 3
