"""Metric families: each app declares its own once (name, help, kind, labels, buckets)."""

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from prometheus_client.utils import floatToGoString

COUNTER, HISTOGRAM, GAUGE = "counter", "histogram", "gauge"
# Seconds: from a quick SII call to a long sync of many periods.
DEFAULT_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


@dataclass(frozen=True)
class Family:
    """One metric family. Counters and histograms are counted into the shared store; a gauge is
    read at scrape time by `read`, which returns {label values: value}."""

    name: str
    help: str
    kind: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    read: Callable[[], Mapping[tuple[str, ...], float]] | None = field(default=None, compare=False)

    def bounds(self) -> list[str]:
        """The histogram's bucket bounds as Prometheus writes them, +Inf last."""
        return [floatToGoString(bound) for bound in (*self.buckets, math.inf)]


_FAMILIES: dict[str, Family] = {}


def family_declare(family: Family) -> Family:
    """Register a family (idempotent: a module imported twice declares the same one again)."""
    known = _FAMILIES.setdefault(family.name, family)
    if known != family:
        raise ValueError(f"Metric {family.name} is declared twice, differently")
    return family


def families() -> list[Family]:
    return list(_FAMILIES.values())


def metric_names() -> set[str]:
    """Every family name /metrics can emit (counters with their _total)."""
    return set(_FAMILIES)


def sample_key(family: Family, labels: Mapping[str, str], part: str = "") -> str:
    """The store's key of one series (and part: a histogram's "sum", "count" or bucket bound)."""
    if set(labels) != set(family.labels):
        raise ValueError(f"{family.name} takes labels {family.labels}, got {sorted(labels)}")
    return json.dumps(
        [family.name, [str(labels[name]) for name in family.labels], part], separators=(",", ":")
    )


def sample_key_parse(key: str) -> tuple[str, tuple[str, ...], str] | None:
    """(name, label values, part), or None for a key this code does not write."""
    try:
        name, values, part = json.loads(key)
        return str(name), tuple(str(value) for value in values), str(part)
    except (ValueError, TypeError):
        return None
