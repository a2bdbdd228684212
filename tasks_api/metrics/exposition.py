"""/metrics' text: the shared store's counters and histograms, and gauges read at scrape time."""

import logging
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from tasks_api.metrics.families import COUNTER, GAUGE, Family, families, sample_key_parse
from tasks_api.metrics.stores import metrics_store

logger = logging.getLogger(__name__)
# name -> label values -> part ("" for a counter; "sum", "count" or a bucket bound) -> value
Grouped = dict[str, dict[tuple[str, ...], dict[str, float]]]


class SharedStoreCollector:
    """A prometheus_client collector over the shared store; one read of it per scrape."""

    def collect(self) -> Iterator[Metric]:
        grouped = _grouped(_read_store())
        for family in families():
            if family.kind == GAUGE:
                yield _gauge(family)
            elif family.kind == COUNTER:
                yield _counter(family, grouped.get(family.name, {}))
            else:
                yield _histogram(family, grouped.get(family.name, {}))


def metrics_render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SharedStoreCollector())  # type: ignore[arg-type]  # a Collector by duck typing
    return generate_latest(registry)


def _read_store() -> dict[str, float]:
    try:
        return metrics_store().read()
    except Exception:  # the store is down: the gauges still answer, the counters show nothing
        logger.warning("Could not read the metrics store", exc_info=True)
        return {}


def _grouped(values: dict[str, float]) -> Grouped:
    grouped: Grouped = defaultdict(lambda: defaultdict(dict))
    for key, value in values.items():
        parsed = sample_key_parse(key)
        if parsed:
            name, labels, part = parsed
            grouped[name][labels][part] = value
    return grouped


def _counter(family: Family, series: dict[tuple[str, ...], dict[str, float]]) -> Metric:
    metric = CounterMetricFamily(family.name, family.help, labels=family.labels)
    for labels, parts in sorted(series.items()):
        if len(labels) == len(family.labels):
            metric.add_metric(list(labels), parts.get("", 0.0))
    return metric


def _histogram(family: Family, series: dict[tuple[str, ...], dict[str, float]]) -> Metric:
    metric = HistogramMetricFamily(family.name, family.help, labels=family.labels)
    for labels, parts in sorted(series.items()):
        if len(labels) != len(family.labels):
            continue
        running, buckets = 0.0, []
        for bound in family.bounds():  # stored per bucket; Prometheus wants them cumulative
            running += parts.get(bound, 0.0)
            buckets.append((bound, running))
        metric.add_metric(list(labels), buckets, sum_value=parts.get("sum", 0.0))
    return metric


def _gauge(family: Family) -> Metric:
    metric = GaugeMetricFamily(family.name, family.help, labels=family.labels)
    try:
        values = family.read() if family.read else {}
    except Exception:  # one gauge's source is down: the rest of the scrape still answers
        logger.warning("Could not read the gauge %s", family.name, exc_info=True)
        values = {}
    for labels, value in sorted(values.items()):
        metric.add_metric(list(labels), value)
    return metric
