"""The sii app's metrics: SII requests by endpoint and outcome with their latency, rows synced,
and the companies whose data is stale (a gauge read at scrape time).

Declared through tasks_api.metrics (counted into the store every process shares); SiiConfig.ready
imports this module so /metrics lists the families before anything was counted.

A call's outcome is what the client made of the SII's answer, content included: ok, session_lost
(the login wall: the client logs in again), or the sii.client.errors type it raised, in snake case
(unavailable, timeout, connection_error, session_expired, bad_credentials, not_authorized,
rejected...). The latency is per HTTP request.
"""

from typing import TYPE_CHECKING

from django.utils import timezone

from sii.selectors_freshness import freshness_counts
from tasks_api.metrics import (
    COUNTER,
    DEFAULT_BUCKETS,
    GAUGE,
    HISTOGRAM,
    Family,
    counter_inc,
    family_declare,
    histogram_observe,
)

if TYPE_CHECKING:  # the services' models need not load with the metrics
    from sii.services.upserts import UpsertCounts

# The client's `what` names: a fixed list keeps the label's values bounded.
ENDPOINTS = frozenset(
    {
        "login",
        "logout",
        "getResumen",
        "getDetalleCompra",
        "getDetalleVenta",
        "getDeclaracionConEstados",
        "bhe",
        "bhe emitidas",
    }
)
SURFACES = frozenset({"purchases", "sales", "fee_receipts", "rcv_summaries", "f29"})

REQUESTS = family_declare(
    Family(
        "sii_requests_total",
        "Calls to the SII, by endpoint and outcome (ok, session_lost, or the error raised).",
        COUNTER,
        ("endpoint", "outcome"),
    )
)
REQUEST_DURATION = family_declare(
    Family(
        "sii_request_duration_seconds",
        "Seconds each SII request took (an answer or a transport error).",
        HISTOGRAM,
        ("endpoint",),
        DEFAULT_BUCKETS,
    )
)
ROWS_SYNCED = family_declare(
    Family(
        "sii_rows_synced_total",
        "Rows a sync created or changed, by surface.",
        COUNTER,
        ("surface", "change"),
    )
)


def stale_companies_read() -> dict[tuple[str, ...], float]:
    """Per surface, the companies a nightly sync covers that it has not synced within the target."""
    return {(surface,): float(n) for surface, n in freshness_counts(now=timezone.now()).stale.items()}


family_declare(
    Family(
        "sii_companies_stale",
        "Companies whose data of a surface was not synced successfully within SII_FRESHNESS_TARGET_HOURS, "
        "among those a nightly sync covers (never synced: stale).",
        GAUGE,
        ("surface",),
        read=stale_companies_read,
    )
)


def endpoint_label(what: str) -> str:
    return what.replace(" ", "_") if what in ENDPOINTS else "other"


def sii_call_count(*, what: str, outcome: str) -> None:
    """The SII client's on_call (sii.services.clients passes it in): outcomes are few, the
    label stays bounded."""
    counter_inc(REQUESTS, {"endpoint": endpoint_label(what), "outcome": outcome})


def sii_request_time(*, what: str, elapsed: float) -> None:
    """The SII client's on_request."""
    histogram_observe(REQUEST_DURATION, {"endpoint": endpoint_label(what)}, elapsed)


def sii_rows_count(*, surface: str, counts: "UpsertCounts") -> None:
    counter_inc(ROWS_SYNCED, {"surface": surface, "change": "created"}, counts.created)
    counter_inc(ROWS_SYNCED, {"surface": surface, "change": "updated"}, counts.updated)
