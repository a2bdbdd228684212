"""Reading /metrics in tests: one scrape as {(sample name, labels): value}."""

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-token-for-tests"
Samples = dict[tuple[str, frozenset], float]


def _families(client) -> list:
    """GET /metrics with the token (the metrics_on fixture makes web accept it), parsed."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return list(text_string_to_metric_families(response.content.decode()))


def scrape(client) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in _families(client)
        for sample in family.samples
    }


def scraped_families(client) -> set[str]:
    """The family names of a scrape as metric_names() spells them (counters with _total)."""
    return {
        f"{family.name}_total" if family.type == "counter" else family.name for family in _families(client)
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)
