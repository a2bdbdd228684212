"""/metrics after real syncs in a worker subprocess: launches, runs, SII requests, rows synced."""

import pytest

from tasks_api.metrics import metric_names
from tests.factories import CompanyFactory
from tests.metrics import scrape, scraped_families, value
from tests.processes import wait_for
from tests.runs import finished, launch

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("metrics_on", "celery_worker_process"),
]
SYNC = "sii.sync_documents"


def synced(client, before: dict, *, runs: int) -> dict:
    """A scrape once `runs` more SUCCESS runs of the sync were counted (every process flushes
    about once a second: the counts arrive soon after the run)."""

    def counted():
        now = scrape(client)
        done = value(now, "tasks_api_runs_finished_total", task_type=SYNC, state="SUCCESS")
        launched = value(now, "tasks_api_launches_total", task_type=SYNC, launched_by="system")
        previous = value(before, "tasks_api_launches_total", task_type=SYNC, launched_by="system")
        ok = done >= value(before, "tasks_api_runs_finished_total", task_type=SYNC, state="SUCCESS") + runs
        return now if ok and launched >= previous + runs else None

    return wait_for(counted, timeout=30, what=f"{runs} more {SYNC} run(s) in /metrics")


def delta(after: dict, before: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_a_sync_shows_in_metrics_and_a_second_one_creates_no_rows(client, live_simulator):
    company = CompanyFactory(subscribed=True)
    before = scrape(client)

    assert finished(launch(SYNC, company_id=str(company.pk))).status == "SUCCESS"
    first = synced(client, before, runs=1)

    assert delta(first, before, "tasks_api_launches_total", task_type=SYNC, launched_by="system") == 1
    assert delta(first, before, "tasks_api_runs_finished_total", task_type=SYNC, state="SUCCESS") == 1
    assert delta(first, before, "tasks_api_run_duration_seconds_count", task_type=SYNC) == 1
    assert delta(first, before, "tasks_api_run_duration_seconds_sum", task_type=SYNC) > 0
    assert delta(first, before, "sii_requests_total", endpoint="login", outcome="ok") >= 1
    assert delta(first, before, "sii_requests_total", endpoint="getResumen", outcome="ok") >= 1
    assert delta(first, before, "sii_request_duration_seconds_count", endpoint="getResumen") >= 1
    assert delta(first, before, "sii_rows_synced_total", surface="purchases", change="created") > 0
    assert delta(first, before, "sii_rows_synced_total", surface="sales", change="created") > 0

    assert finished(launch(SYNC, company_id=str(company.pk))).status == "SUCCESS"
    second = synced(client, first, runs=1)

    for surface in ("purchases", "sales", "fee_receipts", "rcv_summaries"):
        assert delta(second, first, "sii_rows_synced_total", surface=surface, change="created") == 0
    assert delta(second, first, "sii_requests_total", endpoint="getResumen", outcome="ok") >= 1


def test_every_declared_metric_is_in_a_scrape_after_a_sync(client, live_simulator):
    company = CompanyFactory(subscribed=True)
    before = scrape(client)
    finished(launch(SYNC, company_id=str(company.pk)))
    after = synced(client, before, runs=1)

    assert scraped_families(client) >= metric_names()
    assert value(after, "tasks_api_workers_online") >= 1
    assert ("tasks_api_queue_depth", frozenset({("queue", "sii")})) in after
