"""What a night relies on, with real worker processes: a company's SII session shared by every
worker, its data's freshness recorded by its syncs, and old runs deleted by the reconciler."""

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from sii.selectors_freshness import DOCUMENT_SURFACES, company_freshness
from support.waits import wait_for
from tasks_api.models import RunAttempt, TaskLaunch
from tests.factories import CompanyFactory
from tests.runs import finished, launch, launched_days_ago

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_company_synced_by_two_worker_processes_logs_in_once_and_its_documents_are_fresh(
    workers, live_simulator
):
    company = CompanyFactory(subscribed=True)
    first_worker = workers(1, concurrency=1)[0]
    first = launch("sii.sync_documents", company_id=str(company.pk))
    assert finished(first).status == "SUCCESS"
    first_worker.stop()

    workers(1, concurrency=1)
    second = launch("sii.sync_documents", company_id=str(company.pk))
    assert finished(second).status == "SUCCESS"

    assert RunAttempt.objects.filter(run_id__in=[first, second]).values("worker").distinct().count() == 2
    assert list(live_simulator.state.traffic.summary()["logins"].values()) == [1]
    surfaces = company_freshness(company=company, now=timezone.now())
    assert {s.surface: s.fresh for s in surfaces if s.surface in DOCUMENT_SURFACES} == dict.fromkeys(
        DOCUMENT_SURFACES, True
    )


def test_the_reconciler_on_a_worker_deletes_runs_past_the_retention_and_keeps_each_company_s_latest(
    workers,
):
    workers(1, concurrency=1, TASKS_API_RETENTION_DAYS="90")
    company = CompanyFactory()
    now = timezone.now()
    old, latest = (launched_days_ago(days_ago=days, now=now, subject_id=company.pk) for days in (120, 100))

    celery_app.send_task("tasks_api.reconcile_runs")

    wait_for(
        lambda: not TaskLaunch.objects.filter(pk=old.pk).exists(),
        timeout=60,
        what="the reconciler to delete the old run",
    )
    assert not RunAttempt.objects.filter(run_id=old.pk).exists()
    assert TaskLaunch.objects.filter(pk=latest.pk).exists()
