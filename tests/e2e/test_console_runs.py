"""The console's runs, in headless Chromium: live progress and Terminate, a fan-out's failed
child, "Relaunch all failed in this filter"; screenshots at 1,400 px under artifacts/browser/.
"""

import pytest

from tasks_api.models import TaskLaunch
from tasks_api.services.launches import task_launch
from tests.e2e.browser import log_in, scaled_ms, shot
from tests.factories import CompanyFactory
from tests.processes import wait_for
from tests.runs import finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
RUNS = "/admin/tasks_api/tasklaunch/"


def run_page(live_server, launch) -> str:
    return f"{live_server.url}{RUNS}{launch.task_id}/change/"


def progress_text(page) -> str:
    return page.inner_text("#run-progress") if page.locator("#run-progress").count() else ""


def test_a_run_s_progress_bar_advances_without_a_reload_and_terminate_stops_it(
    browser_page, live_server, celery_worker_process, live_simulator
):
    page = browser_page
    company = CompanyFactory(name="Lenta Ltda", subscribed=True)
    live_simulator.faults.add("getResumen", "delay:700", times=None)  # every period takes seconds
    log_in(page, live_server)
    launch = task_launch(
        task_type="sii.sync_documents", params={"company_id": str(company.pk), "months": 3, "month_offset": 0},
        launched_by=TaskLaunch.LaunchedBy.SYSTEM,
    )  # fmt: skip

    page.goto(run_page(live_server, launch))
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads
    page.wait_for_selector("#run-progress", timeout=scaled_ms(60))
    first = progress_text(page)
    shot(page, "console-01-run-progress")
    wait_for(lambda: progress_text(page) not in ("", first), timeout=60, interval=0.3, what="the next step")
    shot(page, "console-02-run-progress-advanced")
    assert page.evaluate("window.loadedOnce") is True
    assert " of 9" in progress_text(page)
    assert page.inner_text("#run-live .live-badge").lower() == "live"

    page.click(f"a[href$='/tasklaunch/{launch.task_id}/terminate/']")
    page.wait_for_selector("#action-plan >> text=running: will be killed now")
    shot(page, "console-03-terminate-confirmation")
    page.click("button:has-text('Yes, terminate')")
    page.wait_for_selector("#run-live .run-status[data-status=REVOKED]", timeout=scaled_ms(60))
    page.wait_for_selector("#run-live >> text=Up to date")
    shot(page, "console-04-run-terminated")
    assert finished(launch.task_id).status == "REVOKED"
    assert TaskLaunch.objects.get(pk=launch.pk).terminate_requested


def test_a_fan_out_s_children_table_shows_which_child_failed_and_why(
    browser_page, live_server, celery_worker_process, live_simulator
):
    page = browser_page
    CompanyFactory(name="Panadería La Espiga", subscribed=True)
    failing = CompanyFactory(name="Ferretería Sur SpA", subscribed=True)
    live_simulator.faults.add(
        "getResumen", "resp_estado:2:Parametros invalidos", times=None, rut=str(failing.rut_body)
    )
    log_in(page, live_server)
    parent = task_launch(
        task_type="sii.sync_documents_all_companies", params={"months": 1, "month_offset": 1},
        launched_by=TaskLaunch.LaunchedBy.SYSTEM,
    )  # fmt: skip

    page.goto(run_page(live_server, parent))
    page.wait_for_selector("#run-summary >> text=1 of 2 children failed", timeout=scaled_ms(90))
    page.wait_for_selector("#run-live >> text=Up to date", timeout=scaled_ms(60))
    shot(page, "console-05-fan-out-parent")
    page.click(".children-filter:has-text('Failure')")
    page.wait_for_selector(".children-page >> text=1 FAILURE children")
    shot(page, "console-06-fan-out-failed-child")

    rows = page.inner_text("#run-children table")
    assert "Ferretería Sur SpA" in rows
    assert "Parametros invalidos" in rows
    assert "Panadería La Espiga" not in rows


def test_relaunch_all_failed_in_this_filter_relaunches_them_after_saying_how_many(
    browser_page, live_server, celery_worker_process, live_simulator
):
    page = browser_page
    company = CompanyFactory(name="Ferretería Sur SpA", subscribed=True)
    live_simulator.faults.add("getResumen", "http:503", times=None)
    failed = [
        task_launch(
            task_type="sii.sync_f29" if n == 2 else "sii.sync_documents",
            params={"company_id": str(company.pk), **({"year": "2025"} if n == 2 else {"months": 1})},
            launched_by=TaskLaunch.LaunchedBy.SYSTEM,
        )
        for n in range(3)
    ]
    for launch in failed[:2]:
        assert finished(launch.task_id).status == "FAILURE"
    live_simulator.faults.clear()
    log_in(page, live_server)

    page.goto(f"{live_server.url}{RUNS}?status=FAILURE&task_type=sii.sync_documents")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Nor does the list scroll inside its own box: the theme wraps the table in a scrolling form.
    assert page.evaluate(
        "document.querySelector('#result_list').offsetWidth"
        " <= document.querySelector('#result_list').closest('form').clientWidth"
    )
    heights = page.evaluate(
        "Array.from(document.querySelectorAll('#result_list tbody tr')).map(r => r.offsetHeight)"
    )
    assert len(heights) == 2
    assert max(heights) < 60
    shot(page, "console-07-runs-list-failed-filter")
    page.click("text=Relaunch all failed in this filter")
    page.wait_for_selector("#relaunch-count >> text=This will relaunch 2 failed runs")
    shot(page, "console-08-relaunch-all-failed-confirmation")
    page.click("button:has-text('Yes, relaunch 2')")
    page.wait_for_selector("text=Relaunched 2 failed run(s) as")
    shot(page, "console-09-relaunched-all-failed")

    again = TaskLaunch.objects.filter(relaunch_of__isnull=False)
    assert sorted(a.relaunch_of_id for a in again) == sorted(f.task_id for f in failed[:2])
    for launch in again:
        assert finished(launch.task_id).status == "SUCCESS"
