"""The sii app's metrics: SII requests by endpoint and outcome with their latency, rows synced.

Declared through tasks_api.metrics (counted into the store every process shares); SiiConfig.ready
imports this module so /metrics lists the families before anything was counted.

Outcomes: ok (the SII answered below 400: content-level failures show in the run's state),
unavailable (5xx), unauthorized (401/403), rejected (another 4xx), timeout, connection_error.
"""

from typing import TYPE_CHECKING

from tasks_api.metrics import (
    COUNTER,
    DEFAULT_BUCKETS,
    HISTOGRAM,
    Family,
    counter_inc,
    family_declare,
    histogram_observe,
)

if TYPE_CHECKING:  # the SII client imports this module; the services' models need not load with it
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
        "Requests to the SII, by endpoint and outcome.",
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


def endpoint_label(what: str) -> str:
    return what.replace(" ", "_") if what in ENDPOINTS else "other"


def request_outcome(status_code: int) -> str:
    if status_code >= 500:
        return "unavailable"
    if status_code in (401, 403):
        return "unauthorized"
    return "rejected" if status_code >= 400 else "ok"


def sii_request_count(*, what: str, outcome: str, elapsed: float) -> None:
    endpoint = endpoint_label(what)
    counter_inc(REQUESTS, {"endpoint": endpoint, "outcome": outcome})
    histogram_observe(REQUEST_DURATION, {"endpoint": endpoint}, elapsed)


def sii_rows_count(*, surface: str, counts: "UpsertCounts") -> None:
    counter_inc(ROWS_SYNCED, {"surface": surface, "change": "created"}, counts.created)
    counter_inc(ROWS_SYNCED, {"surface": surface, "change": "updated"}, counts.updated)
