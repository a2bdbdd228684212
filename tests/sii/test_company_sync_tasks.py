"""One SII session per company, and none with a rejected clave, in a real Celery worker subprocess."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from sii import crypto
from sii.models import Company
from sii.services.periods import today
from tasks_api.models import RunAttempt, TaskLaunch
from tasks_api.selectors.launches import task_children_counts
from tasks_api.selectors.status import task_status_get
from tests.factories import SIMULATOR_CLAVE, CompanyFactory
from tests.processes import wait_for
from tests.runs import FINISHED, finished, launch, running_here

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BUSY = "another sync of this company is running (task {})"


@pytest.fixture(autouse=True)
def worker(celery_worker_process):
    return celery_worker_process


class Watch:
    """Samples the runs' statuses and the simulator's open SII sessions until the runs finish."""

    def __init__(self, simulator, task_ids: list[str]) -> None:
        self.simulator, self.task_ids = simulator, task_ids
        self.statuses: dict[str, list[dict]] = {task_id: [] for task_id in task_ids}
        self.most_sessions = 0
        sessions = threading.Thread(target=self._count_sessions, daemon=True)
        self._done = threading.Event()
        sessions.start()
        try:
            wait_for(self._sample_statuses, timeout=90, interval=0.05, what="both syncs to finish")
        finally:
            self._done.set()
            sessions.join()

    def _count_sessions(self) -> None:
        while not self._done.wait(0.005):
            self.most_sessions = max(self.most_sessions, self.simulator.session_count())

    def _sample_statuses(self) -> bool:
        for task_id in self.task_ids:
            self.statuses[task_id].append(task_status_get(task_id=task_id))
        return all(self.statuses[task_id][-1]["status"] in FINISHED for task_id in self.task_ids)

    def retry_errors(self, task_id: str) -> set[str]:
        return {s["meta"]["last_error"] for s in self.statuses[task_id] if s["status"] == "RETRY"}


def test_two_syncs_of_one_company_launched_together_never_overlap(live_simulator):
    company = CompanyFactory()
    # Both slow enough (about 4 s) for the second to find the first one logged in.
    live_simulator.faults.add("getResumen", "delay:800", times=None, rut=company.rut_body)
    live_simulator.faults.add("getDeclaracionConEstados", "delay:300", times=None, rut=company.rut_body)
    with transaction.atomic():  # both published on commit, together
        documents = launch("sii.sync_documents", company_id=str(company.pk))
        f29 = launch("sii.sync_f29", company_id=str(company.pk), year=str(today().year - 1))

    watch = Watch(live_simulator, [documents, f29])

    assert watch.most_sessions == 1  # never two SII sessions of the company at once
    [waiting] = [task_id for task_id in (documents, f29) if watch.retry_errors(task_id)]
    [holder] = {documents, f29} - {waiting}
    assert watch.retry_errors(waiting) == {BUSY.format(holder)}
    assert watch.retry_errors(holder) == set()
    assert {watch.statuses[t][-1]["status"] for t in (documents, f29)} == {"SUCCESS"}
    assert finished(waiting).date_done > finished(holder).date_done
    # The waits logged in nowhere, and the second sync carried on the first one's session.
    assert live_simulator.requests_to("CAutInicio.cgi") == 1
    assert TaskLaunch.objects.get(task_id=waiting).retries >= 1
    assert Company.objects.get(pk=company.pk).sync_lock_holder == ""


def test_waiting_for_a_busy_company_does_not_use_up_the_transient_error_retries(live_simulator):
    company = CompanyFactory()
    # Another sync holds the company, live (this process holds its claim) until it dies below.
    expires_at = timezone.now() + timedelta(minutes=10)
    Company.objects.filter(pk=company.pk).update(
        sync_lock_holder="other-sync", sync_lock_expires_at=expires_at
    )
    live_simulator.faults.add("getResumen", "http:503", times=3)  # the whole transient budget

    with running_here("other-sync"):
        task_id = launch("sii.sync_documents", company_id=str(company.pk))
        wait_for(lambda: TaskLaunch.objects.get(task_id=task_id).status == "RETRY", timeout=30)
    watch = Watch(live_simulator, [task_id])  # the holder is gone: its lock is taken over at once

    assert watch.statuses[task_id][-1]["status"] == "SUCCESS"
    assert BUSY.format("other-sync") in watch.retry_errors(task_id)
    unavailable = RunAttempt.objects.filter(run_id=task_id, error_type="SiiUnavailable")
    assert unavailable.count() == 3  # the first attempt and two retries; the third succeeded
    waits = TaskLaunch.objects.get(task_id=task_id).retries - 3
    assert waits >= 1


def test_a_rejected_clave_is_tried_once_then_every_sync_is_refused_until_it_changes(live_simulator):
    company = CompanyFactory(subscribed=True, sii_password_encrypted=crypto.encrypt("wrong"))

    first = finished(launch("sii.sync_documents", company_id=str(company.pk)))

    assert first.status == "FAILURE"
    assert "SiiBadCredentials" in first.traceback
    assert live_simulator.requests_to("CAutInicio.cgi") == 1
    rejected_at = Company.objects.get(pk=company.pk).sii_password_rejected_at
    assert rejected_at is not None
    refused_message = (
        f"The SII rejected this company's clave on {timezone.localtime(rejected_at):%Y-%m-%d %H:%M}; "
        "update it in the admin to sync again"
    )

    later = [
        launch("sii.sync_documents", company_id=str(company.pk)),
        launch("sii.sync_f29", company_id=str(company.pk)),
    ]

    for task_id in later:
        stored = finished(task_id)
        assert stored.status == "FAILURE"
        assert "CompanyClaveRejected" in stored.traceback
        assert task_status_get(task_id=task_id)["error"] == refused_message
        assert TaskLaunch.objects.get(task_id=task_id).retries == 0
    assert live_simulator.requests_to("/") == 1  # still only the first login

    fixed = Company.objects.get(pk=company.pk)
    fixed.set_sii_password(SIMULATOR_CLAVE)
    fixed.save()

    assert finished(launch("sii.sync_documents", company_id=str(company.pk))).status == "SUCCESS"
    assert live_simulator.requests_to("CAutInicio.cgi") == 2


def test_the_fan_outs_publish_no_child_for_a_rejected_clave_and_say_so(live_simulator):
    usable = CompanyFactory(subscribed=True)
    CompanyFactory(subscribed=True, sii_password_rejected_at=timezone.now())

    parent_id = launch("sii.sync_f29_all_companies", year=str(today().year - 1))

    result = json.loads(finished(parent_id).result)
    assert (result["dispatched"], result["skipped_rejected_clave"]) == (1, 1)
    children = TaskLaunch.objects.filter(parent_id=parent_id)
    assert [child.params["company_id"] for child in children] == [str(usable.pk)]
    counts = wait_for(
        lambda: (c := task_children_counts(parent_task_id=parent_id))["pending"] + c["running"] == 0 and c,
        timeout=60,
        what="the child to finish",
    )
    assert counts["succeeded"] == 1
