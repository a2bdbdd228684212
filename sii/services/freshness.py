"""Record a surface's successful sync of a company: when, and for which periods (its freshness)."""

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from sii.models import Company, SurfaceSync
from sii.services.periods import period_of


def surface_sync_record(
    *, company: Company, surface: str, periods: Sequence[str], now: datetime | None = None
) -> bool:
    """Record that every one of `periods` (oldest first) of the company's `surface` was saved, if
    they reach the current month; False for a backfill of older months, which says nothing of
    whether the data is current (and must not hide that last night's sync failed)."""
    now = now or timezone.now()
    if not periods or periods[-1] < period_of(timezone.localdate(now)):
        return False
    row = SurfaceSync(
        company=company, surface=surface, last_synced_at=now, first_period=periods[0], last_period=periods[-1]
    )
    # One INSERT ... ON CONFLICT DO UPDATE, on PostgreSQL and SQLite alike: no read, no race.
    SurfaceSync.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["company", "surface"],
        update_fields=["last_synced_at", "first_period", "last_period"],
    )
    return True
