"""The SII governor with real workers: one pace for every worker process, and an outage that
pauses every sync while one probe at a time tests the SII."""

import pytest

from support.waits import scaled, wait_for
from tasks_api.models import RunAttempt
from tests.factories import CompanyFactory
from tests.runs import finished, launch

RCV = "/consdcvinternetui/"
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_two_worker_processes_keep_one_pace_to_the_sii_together(workers, live_simulator):
    rate = 8
    workers(2, concurrency=3, SII_RATE_RCV=str(rate), SII_RATE_AUTH="50", SII_RATE_BHE="50")
    companies = CompanyFactory.create_batch(8, subscribed=True)

    runs = [launch("sii.sync_documents", company_id=str(company.pk)) for company in companies]

    assert {finished(run).status for run in runs} == {"SUCCESS"}
    assert len(set(RunAttempt.objects.filter(run_id__in=runs).values_list("worker", flat=True))) == 2
    arrivals = live_simulator.state.traffic.arrivals(RCV)
    # Sent a 1/rate apart by the governor; arriving up to a second late at worst (a loaded machine),
    # so any 3 s worth of requests spans at least 2 s.
    span = 3 * rate
    assert len(arrivals) > span
    assert min(later - earlier for earlier, later in zip(arrivals, arrivals[span:], strict=False)) >= 2.0


def test_an_sii_outage_pauses_every_sync_while_one_probe_at_a_time_tests_it(workers, live_simulator):
    workers(
        1, concurrency=4, SII_BREAKER_THRESHOLD="3", SII_BREAKER_BACKOFF="1", SII_BREAKER_MAX_BACKOFF="2",
        SII_PAUSE_WAIT_SECONDS="3",
    )  # fmt: skip
    companies = CompanyFactory.create_batch(6, subscribed=True)
    live_simulator.faults.add("getResumen", "http:503", times=None)

    runs = [launch("sii.sync_documents", company_id=str(company.pk)) for company in companies]
    waiting = wait_for(_a_waiting_attempt, timeout=scaled(60), what="a sync to wait for the SII")
    assert waiting.startswith("the SII has been unavailable since ")
    assert waiting.endswith("(rcv)")
    down_from = live_simulator.state.traffic.arrivals(RCV)[0]
    wait_for(lambda: _paused_retry(runs), timeout=scaled(60), what="a paused sync to give its worker back")
    down_until = live_simulator.state.traffic.arrivals(RCV)[-1]
    live_simulator.faults.clear()

    assert {finished(run, timeout=scaled(120)).status for run in runs} == {"SUCCESS"}
    failed = [t for t in live_simulator.state.traffic.arrivals(RCV) if down_from <= t <= down_until]
    # The threshold's failures and the requests already in flight (one per worker process), then
    # at most one probe a second (the first backoff) while the SII stayed down.
    assert len(failed) <= 3 + 4 + int(down_until - down_from) + 1


def _a_waiting_attempt() -> str | None:
    return RunAttempt.objects.exclude(waiting="").values_list("waiting", flat=True).first()


def _paused_retry(runs: list[str]) -> bool:
    return RunAttempt.objects.filter(
        run_id__in=runs, outcome="retry", error_message__startswith="waiting: the SII has been unavailable"
    ).exists()
