"""The workflow on RabbitMQ: web and workers in subprocesses on a fresh virtual host, quorum queues."""

import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from celery import Celery
from django.conf import settings
from knox.models import AuthToken

from sii.models import PurchaseDocument
from support.waits import scaled
from tasks_api.models import TaskLaunch
from tests.factories import CompanyFactory, UserFactory
from tests.processes import WebServer, WorkerProcess, free_port, queue_paused, wait_for, worker_env
from tests.runs import (
    children_finished,
    children_under_way,
    children_waiting_when_started,
    company_busy,
    poll,
)  # fmt: skip

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SYNC = "sii.sync_documents"
CHILDREN = 6  # the module's worker runs one task at a time
ONDEMAND = settings.SII_ONDEMAND_QUEUE  # where the API's launches wait


@dataclass
class Rabbit:
    """The module's processes; the kill test swaps in the worker it leaves running."""

    url: str
    vhost: str
    env: dict[str, str]
    worker: WorkerProcess
    web: WebServer
    logs: Path
    control: Celery  # this process's app on the module's virtual host, for broadcasts only

    def start_worker(self, name: str) -> WorkerProcess:
        return WorkerProcess(env=self.env, log_path=self.logs / f"{name}.log", concurrency=1)


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=scaled(60)
    ).stdout


@pytest.fixture(scope="module")
def rabbit(django_db_setup, django_db_blocker, served_simulator, tmp_path_factory):
    vhost = f"sii_tasks_test_{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    logs = tmp_path_factory.mktemp("rabbitmq")
    env = worker_env(
        database=settings.DATABASES["default"], simulator_url=served_simulator[1],
        extra={"CELERY_BROKER_URL": url, "LOG_LEVEL": "DEBUG"},
    )  # fmt: skip
    worker = WorkerProcess(env=env, log_path=logs / "worker.log", concurrency=1)
    web = WebServer(env=env, port=free_port(), log_path=logs / "web.log")
    control = Celery(broker=url, set_as_current=False)
    rabbit = Rabbit(url=url, vhost=vhost, env=env, worker=worker, web=web, logs=logs, control=control)
    try:
        worker.wait_ready(control)
        web.wait_ready()
        yield rabbit
    finally:
        web.stop()
        rabbit.worker.stop()
        control.close()
        rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def http(rabbit, live_simulator, db):
    _, key = AuthToken.objects.create(user=UserFactory(is_superuser=True), expiry=None)
    headers = {"Authorization": f"Token {key}"}
    with httpx.Client(base_url=f"{rabbit.web.base_url}/api/celery", headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def control(rabbit) -> Celery:
    return rabbit.control


def launch(http: httpx.Client, task_type: str = SYNC, **params) -> str:
    response = http.post("/tasks/launch", json={"task_type": task_type, "params": params})
    assert response.status_code == 202, response.text
    return response.json()["task_id"]


def queued(http: httpx.Client, queue: str) -> int:
    return http.get("/stats").json()["queues"][queue]


def test_a_sync_launched_through_the_api_succeeds_and_stores_the_documents(http):
    company = CompanyFactory(subscribed=True)

    body = poll(http, launch(http, company_id=str(company.pk)))

    assert body["status"] == "SUCCESS", body["traceback"]
    stored = PurchaseDocument.objects.filter(company=company).count()
    assert body["result"]["compras"]["total"] == stored > 0


def test_the_queues_are_quorum_queues_and_the_stats_report_their_lengths(http, rabbit):
    listed = rabbitmqctl("list_queues", "-p", rabbit.vhost, "name", "type").splitlines()
    types = dict(line.split("\t") for line in listed)

    assert (types["sii_ondemand"], types["celery"], types["sii"]) == ("quorum", "quorum", "quorum")
    assert http.get("/stats").json()["queues"] == {"sii_ondemand": 0, "celery": 0, "sii": 0}


def test_a_transient_sii_error_retries_after_its_countdown_and_the_sync_completes(http, live_simulator):
    company = CompanyFactory(subscribed=True)
    live_simulator.faults.add("CAutInicio.cgi", "sii_unavailable")

    task_id = launch(http, company_id=str(company.pk))

    assert poll(http, task_id)["status"] == "SUCCESS"
    launch_record = TaskLaunch.objects.get(task_id=task_id)
    assert launch_record.retries == 1
    assert live_simulator.requests_to("CAutInicio.cgi") == 2


def test_an_on_demand_runs_retry_comes_back_to_the_on_demand_queue(http, control):
    company = CompanyFactory(subscribed=True)

    # Celery's own retry follows the routes here: to `sii`, where nothing would take it.
    with queue_paused(control, settings.SII_QUEUE):
        with company_busy(company):
            task_id = launch(http, company_id=str(company.pk))
            poll(http, task_id, until=("RETRY",), timeout=30)
        body = poll(http, task_id, timeout=30)

    assert body["status"] == "SUCCESS", body["traceback"]
    assert TaskLaunch.objects.get(task_id=task_id).retries == 1


def test_a_run_that_retries_twice_through_the_delayed_queues_is_delivered_a_third_time(http):
    company = CompanyFactory(subscribed=True)

    with company_busy(company):  # each delivery retries after a countdown: RabbitMQ's delayed queues
        task_id = launch(http, company_id=str(company.pk))
        wait_for(
            lambda: TaskLaunch.objects.get(task_id=task_id).retries >= 2, timeout=60, what="a second retry"
        )
    body = poll(http, task_id, timeout=60)

    assert body["status"] == "SUCCESS", body["traceback"]


def test_an_on_demand_sync_starts_before_the_fan_out_children_queued_ahead_of_it(http, live_simulator):
    for _ in range(CHILDREN):
        CompanyFactory(subscribed=True)
    mine = CompanyFactory()  # no subscription: no child syncs it
    live_simulator.faults.add("CAutInicio.cgi", "delay:1500", times=None)  # every sync logs in slowly
    parent_id = launch(http, "sii.sync_documents_all_companies", month_offset=1)
    ahead = children_under_way(parent_id=parent_id, count=CHILDREN)

    task_id = launch(http, company_id=str(mine.pk))

    assert poll(http, task_id)["status"] == "SUCCESS"
    assert ahead >= CHILDREN - 2  # the queue was deep
    # Each queue has its own consumer and prefetch window: the worker took the user's sync while
    # busy with a child (and perhaps holding the next), then ran it first.
    assert children_waiting_when_started(parent_id=parent_id, task_id=task_id) >= ahead - 1
    children_finished(parent_id=parent_id)


def test_a_task_revoked_while_it_waits_in_its_queue_shows_revoked_and_never_runs(
    http, control, live_simulator
):
    company = CompanyFactory(subscribed=True)
    with queue_paused(control, ONDEMAND):
        task_id = launch(http, "sii.sync_f29", company_id=str(company.pk))
        wait_for(lambda: queued(http, ONDEMAND) == 1, timeout=10, what="the message to wait")

        assert http.delete(f"/tasks/{task_id}").json()["status"] == "revoked"
    wait_for(lambda: queued(http, ONDEMAND) == 0, timeout=30, what="the queue to drain")
    assert poll(http, task_id)["status"] == "REVOKED"
    assert live_simulator.requests_to("CAutInicio.cgi") == 0


def test_an_all_companies_run_fans_out_and_every_child_succeeds(http):
    companies = [CompanyFactory(subscribed=True) for _ in range(3)]

    parent_id = launch(http, "sii.sync_documents_all_companies", month_offset=1)

    def converged():
        meta = http.get(f"/tasks/{parent_id}").json()["meta"] or {}
        return meta if meta.get("children_done") else None

    children = wait_for(converged, timeout=60, interval=0.3, what="the children to finish")["children"]
    assert (children["total"], children["succeeded"]) == (len(companies), len(companies))


def test_a_worker_killed_mid_sync_has_its_message_back_in_the_queue_for_another_worker(
    http, rabbit, live_simulator
):
    company = CompanyFactory(subscribed=True)
    live_simulator.faults.add("getResumen", "delay:30000")  # the first delivery hangs on the SII
    task_id = launch(http, company_id=str(company.pk))
    poll(http, task_id, until=("STARTED",), timeout=30)

    rabbit.worker.process.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    rabbit.worker.stop()
    wait_for(lambda: queued(http, ONDEMAND) == 1, timeout=60, what="the redelivery")
    redelivered_after = time.monotonic() - killed_at
    # A second worker (the same node name: it can only start once the first is gone) runs it.
    rabbit.worker = rabbit.start_worker("second-worker")

    body = poll(http, task_id, timeout=60)
    print(f"RabbitMQ: message back in its queue {redelivered_after:.2f} s after the SIGKILL")
    assert body["status"] == "SUCCESS", body["traceback"]
    assert f"{task_id}] received" in rabbit.worker.log_path.read_text()
    assert TaskLaunch.objects.get(task_id=task_id).deliveries == 2
