"""An operator in headless Chromium: the dashboard shows a failed sync, links to it, and stays live.

Drives Debian's Chromium with Playwright against a live server, a real worker and PostgreSQL.
Screenshots at 1,400 px go to artifacts/browser/ (dashboard.png, workers.png, ...).
"""

import pytest

from tasks_api.models import TaskLaunch
from tasks_api.services.launches import task_launch
from tests.e2e.browser import log_in, scaled_ms, shot
from tests.factories import CompanyFactory, TaskLaunchFactory
from tests.processes import wait_for
from tests.runs import stored

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def a_failed_sync(simulator) -> TaskLaunch:
    """A real sync that a real worker runs and the (simulated) SII refuses."""
    company = CompanyFactory(name="Ferretería Sur SpA", subscribed=True)
    simulator.faults.add(
        "getResumen", "resp_estado:2:Parametros invalidos", times=None, rut=str(company.rut_body)
    )
    launch = task_launch(
        task_type="sii.sync_documents", params={"company_id": str(company.pk), "months": 1},
        launched_by=TaskLaunch.LaunchedBy.USER,
    )  # fmt: skip
    wait_for(lambda: _stored_status(launch) == "FAILURE", timeout=60, what="the sync to fail")
    return launch


def _stored_status(launch) -> str | None:
    from django_celery_results.models import TaskResult

    return TaskResult.objects.filter(task_id=launch.task_id).values_list("status", flat=True).first()


def a_run_in_progress() -> TaskLaunch:
    """A run as a worker reports it mid-way (written directly: no worker has to be slow for it)."""
    launch = TaskLaunchFactory(task_type="sii.sync_f29")
    stored(launch, "STARTED", {"info": "Task is running", "current": 3, "total": 9, "step": "compras 202611"})
    return launch


def test_the_dashboard_shows_a_failure_and_links_to_it(
    page, live_server, celery_worker_process, live_simulator
):
    failed = a_failed_sync(live_simulator)
    log_in(page, live_server)

    shot(page, "dashboard")
    assert "No worker online" not in page.inner_text("#workers-and-queues")
    failures = page.locator("#task-types a[href*='status=FAILURE'][href*='task_type=sii.sync_documents&']")
    assert failures.inner_text() == "1"
    failures.click()
    page.wait_for_selector("#result_list")
    shot(page, "dashboard-failed-runs")
    assert failed.task_id[:8] in page.inner_text("#result_list")

    page.click(f"#result_list a[href*='/tasklaunch/{failed.task_id}/change/']")
    page.wait_for_selector("text=Parametros invalidos")
    shot(page, "dashboard-failed-run")


def test_the_dashboard_follows_a_run_live_and_says_when_it_is_up_to_date(
    page, live_server, celery_worker_process
):
    running = a_run_in_progress()
    log_in(page, live_server)

    assert "live" in page.inner_text("#live-state").lower()  # the label is upper-cased by CSS
    assert "compras 202611, 3 of 9" in page.inner_text("#running-now")
    shot(page, "dashboard-live")

    stored(running, "SUCCESS", 1)
    page.wait_for_selector("#live-state >> text=Up to date", timeout=scaled_ms(15))  # no reload: htmx polled
    assert "Nothing is running." in page.inner_text("#running-now")
    shot(page, "dashboard-up-to-date")


def test_the_workers_page_shows_the_worker_and_the_queues(page, live_server, celery_worker_process):
    log_in(page, live_server)

    page.click("#dashboard a[href='/admin/workers/']")
    page.wait_for_selector("#workers-page")
    shot(page, "workers")
    text = page.inner_text("#workers-page")
    assert "No worker online" not in text
    assert "prefork" in text or "solo" in text
    assert "sii" in text
    assert "celery" in text
