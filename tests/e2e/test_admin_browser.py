"""An operator in headless Chromium: find a failed sync, read why, relaunch it, watch it succeed.

Drives Debian's Chromium with Playwright against a live server, a real worker and PostgreSQL.
A screenshot of every page visited is kept under artifacts/browser/.
"""

import pytest
from django.utils import timezone

from tasks_api.models import TaskLaunch
from tasks_api.services.launches import task_launch
from tests.e2e.browser import log_in, scaled_ms, shot
from tests.factories import CompanyFactory
from tests.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def pick_company(page, company) -> None:
    """Choose the company in the launch form: a plain select, or the autocomplete's search."""
    if page.locator(f"select[name=company_id] option[value='{company.pk}']").count():
        page.select_option("select[name=company_id]", str(company.pk))
        return
    page.click("#launch-form .select2-selection")
    page.fill(".select2-search__field", company.name)
    page.click(f".select2-results__option:has-text('{company.name}')")


def yesterdays_failed_sync(simulator) -> tuple:
    company = CompanyFactory(name="Ferretería Sur SpA", subscribed=True)
    simulator.faults.add(
        "getResumen", "resp_estado:2:Parametros invalidos", times=None, rut=str(company.rut_body)
    )
    launch = task_launch(
        task_type="sii.sync_documents", params={"company_id": str(company.pk), "months": 1, "month_offset": 1},
        launched_by=TaskLaunch.LaunchedBy.BEAT, periodic_task_name="Sync documents for all companies (daily)",
    )  # fmt: skip
    wait_for(lambda: _status(launch) == "FAILURE", timeout=60, what="the sync to fail")
    TaskLaunch.objects.filter(pk=launch.pk).update(created_at=timezone.now() - timezone.timedelta(days=1))
    simulator.faults.clear()
    return company, launch


def wait_until_the_run_succeeds(page, screenshot: str) -> None:
    """The run's page updates itself (no reload) until its status reads SUCCESS."""
    page.wait_for_selector("#run-live .run-status[data-status=SUCCESS]", timeout=scaled_ms(60))
    shot(page, screenshot)


def _status(launch) -> str:
    from tasks_api.selectors.status import task_status_get

    return task_status_get(task_id=launch.task_id)["status"]


def test_an_operator_finds_a_failed_sync_reads_why_relaunches_it_and_watches_it_succeed(
    browser_page, live_server, celery_worker_process, live_simulator
):
    page = browser_page
    company, failed = yesterdays_failed_sync(live_simulator)
    log_in(page, live_server, screenshot="01-login")

    page.goto(f"{live_server.url}/admin/tasks_api/tasklaunch/?status=FAILURE&q={company.rut_formatted}")
    shot(page, "02-failed-runs")
    page.click(f"#result_list a[href*='/tasklaunch/{failed.task_id}/change/']")
    page.wait_for_selector("#run-error >> text=Parametros invalidos")
    shot(page, "03-failed-run-detail")
    assert "SiiRejected" in page.inner_text("#run-error")

    page.goto(f"{live_server.url}/admin/tasks_api/tasklaunch/?status=FAILURE")
    page.check(f"input[name=_selected_action][value='{failed.task_id}']")
    page.select_option("select[name=action]", "relaunch_selected")
    page.click("button[name=index]")
    page.wait_for_selector("#action-plan")
    shot(page, "04-relaunch-confirmation")
    page.click("button:has-text('Yes, relaunch')")
    page.wait_for_selector("text=Relaunched as")
    shot(page, "05-relaunched")

    again = TaskLaunch.objects.get(relaunch_of=failed)
    assert again.params == failed.params
    page.click(f"#main a[href$='/tasklaunch/{again.task_id}/change/']")
    wait_until_the_run_succeeds(page, "06-relaunched-run-succeeded")
    assert f"relaunch of {failed.task_id}" in page.content()


def test_an_operator_launches_an_f29_sync_and_a_wrong_year_is_refused_with_the_api_s_message(
    browser_page, live_server, celery_worker_process, live_simulator
):
    page = browser_page
    company = CompanyFactory(name="Demo SpA")
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/tasks_api/tasklaunch/")
    page.click("text=Launch a task")
    page.click("text=sii.sync_f29")
    pick_company(page, company)
    page.fill("input[name=year]", "2999")
    page.click("#launch-form button[type=submit]")
    page.wait_for_selector("#launch-form .errors")
    shot(page, "07-launch-f29-wrong-year")
    assert f"year must be between 2000 and {timezone.localdate().year}" in page.inner_text(
        "#launch-form .errors"
    )
    assert not TaskLaunch.objects.exists()

    last_year = str(timezone.localdate().year - 1)
    page.fill("input[name=year]", last_year)
    page.click("#launch-form button[type=submit]")
    page.wait_for_selector("text=Launched sii.sync_f29")
    launch = TaskLaunch.objects.get()
    assert launch.params == {"company_id": str(company.pk), "year": last_year}
    wait_until_the_run_succeeds(page, "08-f29-run-succeeded")
