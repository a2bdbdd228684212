"""Sync a company's F29 declarations for a year from the SII."""

import dataclasses

from django.utils import timezone

from sii.client.http import SiiClient
from sii.metrics import sii_rows_count
from sii.models import Company, F29Declaration, SurfaceSync
from sii.services.clients import sii_client_for
from sii.services.freshness import surface_sync_record
from sii.services.periods import periods_of_year
from sii.services.progress import Progress, no_progress
from sii.services.upserts import UpsertCounts, rows_upsert

F29_KEY = ("period", "folio")


def f29_sync(
    *, company: Company, year: str, progress: Progress = no_progress, client: SiiClient | None = None
) -> dict:
    """Sync every month of `year` that has begun: one getDeclaracionConEstados per month."""
    periods = periods_of_year(year=year)
    counts, per_period = UpsertCounts(), {}
    with client or sii_client_for(company) as sii:
        for number, period in enumerate(periods, start=1):
            progress(current=number, total=len(periods), step=f"f29 {period}")
            period_counts = _sync_period(sii, company, period)
            counts += period_counts
            per_period[period] = period_counts.as_dict()
        surface_sync_record(company=company, surface=SurfaceSync.Surface.F29, periods=periods)
    Company.objects.filter(pk=company.pk).update(last_f29_sync_at=timezone.now())
    filed = [period for period, result in per_period.items() if result["total"]]
    latest = max(filed, default=None)
    return {
        "success": True,
        "year": year,
        "f29": {**counts.as_dict(), "period": latest, "periods": per_period},
    }


def _sync_period(sii: SiiClient, company: Company, period: str) -> UpsertCounts:
    rows = [{**dataclasses.asdict(row), "period": period} for row in sii.f29_declaraciones(period=period)]
    counts = rows_upsert(model=F29Declaration, company=company, rows=rows, key_fields=F29_KEY)
    sii_rows_count(surface="f29", counts=counts)
    return counts
