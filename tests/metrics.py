"""Reading /metrics in tests: one scrape as {(sample name, labels): value}."""

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-token-for-tests"
Samples = dict[tuple[str, frozenset], float]


def scrape(client) -> Samples:
    """GET /metrics with the token (the test sets settings.METRICS_TOKEN = TOKEN), parsed."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def scraped_families(client) -> set[str]:
    """The family names of a scrape as metric_names() spells them (counters with _total)."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    families = text_string_to_metric_families(response.content.decode())
    return {f"{family.name}_total" if family.type == "counter" else family.name for family in families}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)
