"""The SII refusing a company's clave is logged as one WARNING line that says what to do, never as
an ERROR with a traceback; the run still fails with the SII's message."""

import json
import logging

import pytest

from sii import crypto
from sii.client.errors import SiiBadCredentials, SiiUnavailable
from sii.models import Company
from sii.services.credentials import CompanyClaveRejected
from sii.tasks import EXPECTED_REFUSALS, SiiSyncTask, refusal_warned
from tests.conftest import ARTIFACTS
from tests.factories import CompanyFactory
from tests.runs import finished, launch


def wrong_clave_company() -> Company:
    return CompanyFactory(
        name="Constructora Clave Vencida SpA",
        rut_body=76555835,
        sii_password_encrypted=crypto.encrypt("wrong"),
    )


@pytest.mark.django_db
def test_a_refused_clave_is_one_warning_naming_the_company_its_rut_and_the_fix(caplog):
    company = wrong_clave_company()

    with (
        caplog.at_level(logging.INFO, logger="sii.tasks"),
        pytest.raises(SiiBadCredentials),
        refusal_warned(company=company),
    ):
        raise SiiBadCredentials("Login rejected by the SII: la clave tributaria ingresada no es correcta")

    [record] = caplog.records
    assert (record.levelname, record.exc_info) == ("WARNING", None)
    assert record.getMessage() == (
        "Company Constructora Clave Vencida SpA (RUT 76.555.835-2) not synced: the SII rejected its clave. "
        "Enter the correct clave in the admin (Companies > Constructora Clave Vencida SpA > SII password), "
        "then sync again."
    )


@pytest.mark.django_db
def test_a_clave_rejected_earlier_is_warned_with_when_it_was_rejected(caplog):
    company = wrong_clave_company()
    company.sii_password_rejected_at = company.created_at

    with (
        caplog.at_level(logging.INFO, logger="sii.tasks"),
        pytest.raises(CompanyClaveRejected),
        refusal_warned(company=company),
    ):
        raise CompanyClaveRejected("The SII rejected this company's clave")

    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert "not synced: the SII rejected its clave on 20" in record.getMessage()


@pytest.mark.django_db
def test_other_sii_errors_pass_through_without_a_warning(caplog):
    with (
        caplog.at_level(logging.INFO, logger="sii.tasks"),
        pytest.raises(SiiUnavailable),
        refusal_warned(company=CompanyFactory()),
    ):
        raise SiiUnavailable("getResumen: HTTP 503 from the SII.")

    assert caplog.records == []


def test_the_sync_tasks_tell_celery_a_refused_clave_is_expected():
    assert SiiSyncTask.throws == EXPECTED_REFUSALS == (SiiBadCredentials, CompanyClaveRejected)


def worker_entries(task_id: str) -> list[dict]:
    lines = (ARTIFACTS / "worker.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    return [entry for entry in entries if entry["task_id"] == task_id or task_id in entry["message"]]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("earlier_refusal", [False, True], ids=["refused-now", "refused-before"])
def test_a_worker_logs_a_refused_clave_as_one_warning_without_a_traceback(
    celery_worker_process, live_simulator, earlier_refusal
):
    company = wrong_clave_company()
    if earlier_refusal:
        assert finished(launch("sii.sync_documents", company_id=str(company.pk))).status == "FAILURE"

    task_id = launch("sii.sync_documents", company_id=str(company.pk))

    stored = finished(task_id)
    assert stored.status == "FAILURE"
    assert "SiiBadCredentials" in stored.traceback or "CompanyClaveRejected" in stored.traceback
    entries = worker_entries(task_id)
    warnings = [entry for entry in entries if entry["level"] in ("WARNING", "ERROR", "CRITICAL")]
    assert [(entry["level"], entry["logger"]) for entry in warnings] == [("WARNING", "sii.tasks")]
    assert "Constructora Clave Vencida SpA (RUT 76.555.835-2) not synced" in warnings[0]["message"]
    assert not [entry for entry in entries if "exception" in entry or "Traceback" in entry["message"]]
    assert any("raised expected" in entry["message"] and entry["level"] == "INFO" for entry in entries)
