"""An operator in headless Chromium fixes a company's clave from its failure, and the next sync succeeds.

Drives Debian's Chromium with Playwright against a live server, a real worker, the served SII
simulator and PostgreSQL. Screenshots at 1,400 px are kept under artifacts/browser/.
"""

import pytest
from django.conf import settings

from sii import crypto
from sii.models import Company
from tasks_api.models import TaskLaunch
from tasks_api.services.launches import task_launch
from tests.e2e.browser import log_in, shot
from tests.factories import SIMULATOR_CLAVE, CompanyFactory
from tests.processes import wait_for
from tests.runs import finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def a_sync_the_sii_refused(*, months: int = 1) -> Company:
    """A subscribed company whose stored clave the simulator rejects, after its failed sync."""
    company = CompanyFactory(
        name="Clave Vencida SpA", subscribed=True, sii_password_encrypted=crypto.encrypt("wrong")
    )
    launch = task_launch(
        task_type="sii.sync_documents",
        params={"company_id": str(company.pk), "months": months},
        launched_by="beat",
    )
    assert finished(launch.task_id).status == "FAILURE"
    company.refresh_from_db()
    assert company.sii_password_rejected_at is not None
    return company


def test_an_operator_fixes_a_rejected_clave_from_its_failure_and_the_next_sync_succeeds(
    page, live_server, celery_worker_process, live_simulator
):
    company = a_sync_the_sii_refused()
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/sii/company/?clave_rejected=yes")
    assert "Rejected by the SII on" in page.inner_text("#result_list")
    shot(page, "companies-01-list-shows-the-rejected-clave")

    page.click(f"#result_list a:text('{company.name}')")
    page.wait_for_selector("[data-credentials-state]")
    assert "Rejected by the SII on" in page.inner_text("[data-credentials-state]")
    assert "FAILURE" in page.inner_text("[data-last-failure]")  # the failed sync, and why
    shot(page, "companies-02-company-page-says-the-sii-rejected-the-clave")

    page.click("[data-credentials-state] a[data-fix-clave]")
    page.wait_for_url("**#id_sii_password")
    page.fill("#id_sii_password", SIMULATOR_CLAVE)
    shot(page, "companies-03-correct-clave-entered-in-the-password-field")
    page.click("button[name=_continue]")
    page.wait_for_selector("[data-credentials-state]:has-text('Never tried')")
    company.refresh_from_db()
    assert company.sii_password_rejected_at is None
    shot(page, "companies-04-clave-saved-and-not-tried-yet")

    page.click("a:has-text('Sync documents now')")
    page.wait_for_selector("#dialog button[type=submit]")
    shot(page, "companies-05-sync-documents-confirmation")
    page.click("#dialog button[type=submit]")
    launch = wait_for(
        lambda: TaskLaunch.objects.filter(subject_id=company.pk).exclude(launched_by="beat").first(),
        timeout=30, what="the sync to be launched",
    )  # fmt: skip
    page.wait_for_selector(f"a[href$='/tasklaunch/{launch.task_id}/change/']")

    assert finished(launch.task_id).status == "SUCCESS"
    page.reload()
    page.wait_for_selector("[data-credentials-state]:has-text('Accepted by the SII on')")
    assert "SUCCESS" in page.inner_text("[data-last-syncs]")
    shot(page, "companies-06-next-sync-succeeded-and-the-clave-is-accepted")

    page.click("a[data-all-runs]")
    page.wait_for_selector("#result_list")
    listed = page.inner_text("#result_list")
    assert launch.task_id[:8] in listed
    assert "FAILURE" in listed
    assert "SUCCESS" in listed
    shot(page, "companies-07-all-runs-of-the-company")


def test_an_operator_picks_the_company_by_rut_among_many_in_the_launch_form(page, live_server, quiet_broker):
    CompanyFactory.create_batch(60)
    wanted = CompanyFactory(name="Panadería La Espiga", rut_body=76086428, rut_dv="5")
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/tasks_api/tasklaunch/launch/sii.sync_documents/")
    assert page.locator("select[name=company_id] option").count() <= 1  # nothing listed up front
    page.click("select[name=company_id] + .select2 .select2-selection")
    page.fill(".select2-search__field", "76086428")
    page.click(".select2-results__option:has-text('Panadería La Espiga (76.086.428-5)')")
    shot(page, "companies-08-launch-form-company-picked-by-rut")
    page.click("#launch-form [type=submit]")

    launch = wait_for(lambda: TaskLaunch.objects.first(), timeout=30, what="the launch")
    assert launch.params["company_id"] == str(wanted.pk)
    assert quiet_broker(settings.SII_ONDEMAND_QUEUE) == [launch.task_id]  # a person's launch
