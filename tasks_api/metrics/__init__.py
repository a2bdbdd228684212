"""Prometheus metrics that add up across every process: declare, count, and /metrics reads them.

An app declares its families once (family_declare, in one module per app) and counts with
counter_inc / histogram_observe: cheap, buffered in process (tasks_api.metrics.buffer) and
flushed to one shared store (tasks_api.metrics.stores) that /metrics renders at scrape time.
"""

import bisect
from collections.abc import Mapping

from tasks_api.metrics.buffer import buffer
from tasks_api.metrics.families import (
    COUNTER,
    DEFAULT_BUCKETS,
    GAUGE,
    HISTOGRAM,
    Family,
    family_declare,
    metric_names,
    sample_key,
)

__all__ = [
    "COUNTER",
    "DEFAULT_BUCKETS",
    "GAUGE",
    "HISTOGRAM",
    "Family",
    "counter_inc",
    "family_declare",
    "histogram_observe",
    "metric_names",
    "metrics_flush",
]


def counter_inc(family: Family, labels: Mapping[str, str], amount: float = 1.0) -> None:
    """Add `amount` to a counter's series; nothing for 0."""
    if amount:
        buffer.add({sample_key(family, labels): amount})


def histogram_observe(family: Family, labels: Mapping[str, str], value: float) -> None:
    """Count one observation: its bucket (stored per bucket, summed up at scrape), sum and count."""
    bounds = family.bounds()
    bucket = bounds[bisect.bisect_left(family.buckets, value)]
    buffer.add(
        {
            sample_key(family, labels, bucket): 1.0,
            sample_key(family, labels, "sum"): value,
            sample_key(family, labels, "count"): 1.0,
        }
    )


def metrics_flush() -> bool:
    """Write this process's pending increments now (a Celery pool process does as it ends)."""
    return buffer.flush()
