"""Logs: one JSON object per line in production, task ids on task lines, never a secret."""

import json
import logging

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from config.logs import BareFormatter, JsonFormatter, PlainFormatter, TaskContextFilter
from tasks_api.services.launches import task_launch
from tests.conftest import ARTIFACTS
from tests.factories import CompanyFactory
from tests.processes import wait_for


def record(message: str = "hello %s", *args) -> logging.LogRecord:
    entry = logging.LogRecord("sii.client", logging.INFO, __file__, 1, message, args or ("world",), None)
    TaskContextFilter().filter(entry)
    return entry


def test_a_json_line_is_one_object_with_level_logger_and_message():
    line = JsonFormatter().format(record())

    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("INFO", "sii.client", "hello world")
    assert entry["task_id"] is None
    assert "\n" not in line


def test_a_plain_line_outside_a_task_has_no_task_brackets():
    assert PlainFormatter().format(record()).endswith("INFO sii.client hello world")


def test_a_bare_line_has_no_time_since_its_supervisor_stamps_it():
    assert BareFormatter().format(record()) == "INFO sii.client hello world"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_sync_logs_its_task_id_and_type_and_never_the_sii_password(celery_worker_process, live_simulator):
    password = f"clave-secreta-{timezone.now().timestamp()}"
    company = CompanyFactory()
    company.set_sii_password(password)
    company.save()

    task_id = task_launch(
        task_type="sii.sync_documents", params={"company_id": str(company.pk)}, launched_by="system"
    ).task_id
    wait_for(
        lambda: TaskResult.objects.filter(task_id=task_id, status="SUCCESS").exists(),
        timeout=60,
        what="the sync",
    )

    log = (ARTIFACTS / "worker.log").read_text()
    assert password not in log
    assert company.sii_password_encrypted not in log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    mine = [entry for entry in entries if entry["task_id"] == task_id]
    assert {entry["task_type"] for entry in mine} == {"sii.sync_documents"}
    assert any(entry["logger"] == "sii.client" for entry in mine)
