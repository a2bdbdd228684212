"""Reads of the data's freshness: which companies each surface's nightly sync covers, and which of
them were not synced successfully within SII_FRESHNESS_TARGET_HOURS (never synced: stale).

Covered: F29 fans out to every company with a clave the SII has not rejected; the documents
(purchases, sales, fee receipts) to those of them with an active subscription. A company without
a clave, or whose clave the SII rejected, can be synced by no night: the admin says why, and it
counts nowhere here.
"""

import operator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.db.models import Count, FilteredRelation, Q

from sii.models import Company, CompanyQuerySet, Subscription, SurfaceSync

SURFACES: tuple[str, ...] = tuple(SurfaceSync.Surface.values)
DOCUMENT_SURFACES = tuple(surface for surface in SURFACES if surface != SurfaceSync.Surface.F29)


@dataclass(frozen=True)
class FreshnessCounts:
    stale: dict[str, int]  # per surface: covered companies not synced within the target
    covered: dict[str, int]  # per surface: companies its nightly sync covers
    stale_anywhere: int  # companies stale on at least one surface


@dataclass(frozen=True)
class SurfaceFreshness:
    surface: str
    label: str
    covered: bool  # a nightly sync covers it
    last_sync: SurfaceSync | None
    fresh: bool


def freshness_target() -> timedelta:
    return timedelta(hours=settings.SII_FRESHNESS_TARGET_HOURS)


def freshness_counts(*, now: datetime) -> FreshnessCounts:
    """Stale and covered companies per surface, and stale on any: one aggregate query over the
    companies, each joined to its fresh sync of every surface (the (surface, last_synced_at) index)."""
    stale = {surface: Count("pk", filter=_stale(surface)) for surface in SURFACES}
    anywhere = Count("pk", filter=_stale_anywhere())
    counts = _companies(now).aggregate(**_covered_counts(), **stale, anywhere=anywhere)
    return FreshnessCounts(
        stale={surface: counts[surface] for surface in SURFACES},
        covered={surface: counts[_kind(surface)] for surface in SURFACES},
        stale_anywhere=counts["anywhere"],
    )


def companies_stale(*, now: datetime, surface: str | None = None) -> CompanyQuerySet:
    """The covered companies stale on `surface`, or on any surface when None."""
    return _companies(now).filter(_stale(surface) if surface else _stale_anywhere())


def companies_fresh(*, now: datetime) -> CompanyQuerySet:
    """The covered companies fresh on every surface a nightly sync covers them for."""
    documents = Q(**{f"fresh_{surface}__isnull": False for surface in DOCUMENT_SURFACES})
    return _companies(now).filter(Q(fresh_f29__isnull=False) & (~_subscribed() | documents))


def company_freshness(*, company: Company, now: datetime) -> list[SurfaceFreshness]:
    """Each surface's last sync of the company, whether a nightly sync covers it and whether it
    is fresh: two queries."""
    since = now - freshness_target()
    syncs = {row.surface: row for row in SurfaceSync.objects.filter(company=company)}
    # Counted over the company alone: 1 where a nightly sync covers it.
    covered = _companies(now).filter(pk=company.pk).aggregate(**_covered_counts())
    return [
        SurfaceFreshness(
            surface=surface.value,
            label=surface.label,
            covered=covered[_kind(surface.value)] == 1,
            last_sync=syncs.get(surface.value),
            fresh=surface.value in syncs and syncs[surface.value].last_synced_at >= since,
        )
        for surface in SurfaceSync.Surface
    ]


def _companies(now: datetime) -> CompanyQuerySet:
    """Those a nightly sync can sync (a clave the SII has not rejected), each with `fresh_<surface>`:
    its sync of the surface within the target, if any (one row at most: unique per company)."""
    since = now - freshness_target()
    fresh = {
        f"fresh_{surface}": FilteredRelation(
            "surface_syncs",
            condition=Q(surface_syncs__surface=surface, surface_syncs__last_synced_at__gte=since),
        )
        for surface in SURFACES
    }
    return Company.objects.with_sii_credentials().with_rejected_clave(False).annotate(**fresh)


def _covered_counts() -> dict[str, Count]:
    """F29 covers every company here; the documents those with an active subscription."""
    return {"covered_f29": Count("pk"), "covered_documents": Count("pk", filter=_subscribed())}


def _kind(surface: str) -> str:
    return "covered_f29" if surface == SurfaceSync.Surface.F29 else "covered_documents"


def _subscribed() -> Q:
    # The subscriptions alone, hashed once per use: no join back to the companies.
    return Q(pk__in=Subscription.objects.active().values("company_id"))


def _stale(surface: str) -> Q:
    not_fresh = Q(**{f"fresh_{surface}__isnull": True})
    return not_fresh if surface == SurfaceSync.Surface.F29 else _subscribed() & not_fresh


def _stale_anywhere() -> Q:
    documents = reduce(
        operator.or_, (Q(**{f"fresh_{surface}__isnull": True}) for surface in DOCUMENT_SURFACES)
    )
    return (_subscribed() & documents) | Q(fresh_f29__isnull=True)
