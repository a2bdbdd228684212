"""The four sii tasks in a real Celery worker subprocess, on PostgreSQL and Redis."""

import json
import uuid

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from sii.models import Company, F29Declaration, FeeReceipt, PurchaseDocument, SaleDocument
from sii.services.periods import periods_ending, today
from sii.tasks import sync_documents
from tasks_api.models import RunAttempt, TaskLaunch
from tasks_api.selectors.launches import task_children_counts
from tests.factories import CompanyFactory, SubscriptionFactory
from tests.processes import wait_for
from tests.runs import finished, launch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def worker(celery_worker_process):
    return celery_worker_process


def result_of(task_id: str) -> dict:
    return json.loads(finished(task_id).result)


def test_sync_documents_stores_a_company_s_documents_and_returns_the_contract_shape(live_simulator):
    company = CompanyFactory(subscribed=True)

    before = periods_ending(months=1, month_offset=1)[0]
    task_id = launch("sii.sync_documents", company_id=str(company.pk), months=1, month_offset=1)

    stored = finished(task_id)
    assert stored.status == "SUCCESS", stored.traceback
    result = json.loads(stored.result)
    # The month before the one the worker ran in: a run that straddles midnight at a month's end
    # may see either side of it.
    periods = {before, periods_ending(months=1, month_offset=1)[0]}
    assert result["success"] is True
    assert result["compras"]["period"] == result["ventas"]["period"]
    assert result["compras"]["period"] in periods
    assert result["compras"]["total"] == PurchaseDocument.objects.filter(company=company).count() > 0
    assert result["ventas"]["total"] == SaleDocument.objects.filter(company=company).count() > 0
    assert result["honorarios"]["total"] == FeeReceipt.objects.filter(company=company).count()
    assert stored.task_name == "sii.sync_documents"


def test_running_the_sync_twice_creates_no_duplicates(live_simulator):
    company = CompanyFactory(subscribed=True)
    first = result_of(launch("sii.sync_documents", company_id=str(company.pk)))
    rows = PurchaseDocument.objects.filter(company=company).count()

    second = result_of(launch("sii.sync_documents", company_id=str(company.pk)))

    assert PurchaseDocument.objects.filter(company=company).count() == rows
    assert second["compras"]["created"] == 0
    assert second["compras"]["unchanged"] == first["compras"]["total"]


def test_sync_f29_stores_the_declarations_of_a_year(live_simulator):
    company = CompanyFactory()
    year = str(today().year - 1)

    result = result_of(launch("sii.sync_f29", company_id=str(company.pk), year=year))

    assert result["year"] == year
    assert result["f29"]["total"] == F29Declaration.objects.filter(company=company).count() > 0


def test_a_missing_company_fails_with_company_not_found_and_is_not_retried(live_simulator):
    task_id = launch("sii.sync_documents", company_id=str(uuid.uuid4()))

    stored = finished(task_id)

    assert stored.status == "FAILURE"
    assert json.loads(stored.result)["exc_message"] == ["Company not found"]
    assert "CompanyNotFound" in stored.traceback
    assert live_simulator.requests_to("CAutInicio.cgi") == 0


def test_bad_credentials_fail_at_once_with_a_single_login_attempt(live_simulator):
    company = CompanyFactory()
    live_simulator.faults.add("CAutInicio.cgi", "bad_credentials", times=None)

    stored = finished(launch("sii.sync_documents", company_id=str(company.pk)))

    assert stored.status == "FAILURE"
    assert "SiiBadCredentials" in stored.traceback
    assert live_simulator.requests_to("CAutInicio.cgi") == 1


def test_a_transient_sii_error_is_retried_until_the_sync_succeeds(live_simulator):
    company = CompanyFactory()
    live_simulator.faults.add("getResumen", "http:503", times=2)

    task_id = launch("sii.sync_documents", company_id=str(company.pk))

    stored = finished(task_id, timeout=90)
    assert stored.status == "SUCCESS", stored.traceback
    assert TaskLaunch.objects.get(task_id=task_id).retries == 2
    assert RunAttempt.objects.filter(run_id=task_id, error_type="SiiUnavailable").count() == 2
    assert live_simulator.requests_to("CAutInicio.cgi") == 1  # the retries carried on its session


def test_a_persistent_transient_error_fails_after_three_retries(live_simulator):
    company = CompanyFactory()
    live_simulator.faults.add("getResumen", "http:503", times=None)

    stored = finished(launch("sii.sync_documents", company_id=str(company.pk)), timeout=120)

    assert stored.status == "FAILURE"
    assert "SiiUnavailable" in stored.traceback
    assert RunAttempt.objects.filter(run_id=stored.task_id, error_type="SiiUnavailable").count() == 4


def test_a_task_past_its_soft_time_limit_fails_with_a_time_limit_error(live_simulator):
    company = CompanyFactory()
    live_simulator.faults.add("getResumen", "delay:5000", times=1)

    task = sync_documents.apply_async(
        kwargs={"company_id": str(company.pk)}, soft_time_limit=1, time_limit=10
    )

    stored = finished(task.id, timeout=30)
    assert stored.status == "FAILURE"
    assert "SoftTimeLimitExceeded" in stored.traceback


def test_a_running_sync_reports_its_progress_while_staying_started(live_simulator):
    company = CompanyFactory()
    live_simulator.faults.add("TMBCOC_InformeMensualBheRec.cgi", "delay:1500", times=None)
    task_id = launch("sii.sync_documents", company_id=str(company.pk), months=2)

    running = wait_for(
        lambda: TaskResult.objects.filter(task_id=task_id, status="STARTED", result__contains="honorarios").first(),
        timeout=30, what="progress meta",
    )  # fmt: skip

    meta = json.loads(running.result)
    assert meta["info"] == "Task is running"
    assert meta["total"] == 6
    assert meta["step"].startswith("honorarios ")
    assert finished(task_id).status == "SUCCESS"


def test_a_sync_revoked_while_running_stops_before_the_next_period(live_simulator):
    company = CompanyFactory()
    live_simulator.faults.add("TMBCOC_InformeMensualBheRec.cgi", "delay:1500", times=None)
    first, *_later = periods_ending(months=3, month_offset=0)
    task_id = launch("sii.sync_documents", company_id=str(company.pk), months=3)
    wait_for(
        lambda: TaskResult.objects.filter(task_id=task_id, result__contains=f"honorarios {first}").exists(),
        timeout=30, what="the first period's last step",
    )  # fmt: skip

    TaskLaunch.objects.filter(task_id=task_id).update(revoke_requested_at=timezone.now())

    assert finished(task_id).status == "REVOKED"
    stored = set(PurchaseDocument.objects.filter(company=company).values_list("period", flat=True))
    assert stored == {first}


def test_a_task_revoked_before_it_starts_never_runs(live_simulator):
    company = CompanyFactory()
    launch_record = TaskLaunch.objects.create(
        task_type="sii.sync_documents", params={"company_id": str(company.pk)}, launched_by="system",
        revoke_requested_at=timezone.now(),
    )  # fmt: skip

    sync_documents.apply_async(kwargs=launch_record.params, task_id=str(launch_record.task_id))

    assert finished(str(launch_record.task_id)).status == "REVOKED"
    assert live_simulator.requests_to("CAutInicio.cgi") == 0


def test_all_companies_sync_fans_out_and_one_failing_company_fails_no_other(live_simulator):
    good = [CompanyFactory(subscribed=True) for _ in range(6)]
    bad = CompanyFactory(subscribed=True)
    live_simulator.faults.add("CAutInicio.cgi", "bad_credentials", times=None, rut=str(bad.rut_body))
    SubscriptionFactory(company=CompanyFactory(), status="inactive")

    parent_id = launch("sii.sync_documents_all_companies", months=1, month_offset=1)

    assert result_of(parent_id)["dispatched"] == len(good) + 1
    counts = wait_for(
        lambda: (c := task_children_counts(parent_task_id=parent_id))["pending"] + c["running"] == 0 and c,
        timeout=90, what="every child to finish",
    )  # fmt: skip
    assert counts == {"total": 7, "succeeded": 6, "failed": 1, "running": 0, "pending": 0, "revoked": 0}
    synced = Company.objects.filter(last_documents_sync_at__isnull=False)
    assert set(synced) == set(good)


def test_all_companies_f29_sync_covers_every_company_with_credentials(live_simulator):
    with_credentials = [CompanyFactory() for _ in range(3)]
    CompanyFactory(without_credentials=True)

    parent_id = launch("sii.sync_f29_all_companies", year=str(today().year - 1))

    assert result_of(parent_id)["dispatched"] == 3
    children = TaskLaunch.objects.filter(parent_id=parent_id)
    assert {c.params["company_id"] for c in children} == {str(c.pk) for c in with_credentials}
    for child in children:
        assert finished(str(child.task_id)).status == "SUCCESS"


def test_a_beat_publish_is_recorded_as_a_launch_by_beat(live_simulator):
    company = CompanyFactory()

    sent = sync_documents.apply_async(
        kwargs={"company_id": str(company.pk)}, headers={"periodic_task_name": "nightly documents"}
    )

    record = TaskLaunch.objects.get(task_id=sent.id)
    assert record.launched_by == "beat"
    assert record.periodic_task_name == "nightly documents"
    assert record.subject_id == company.pk  # the catalog's subject parameter, company_id
    assert finished(sent.id).status == "SUCCESS"
