"""A user's launch never waits behind a fan-out's children: a real worker on Redis, the served simulator."""

import httpx
import pytest
from django.conf import settings
from knox.models import AuthToken

from config.celery import app as celery_app
from tasks_api.models import TaskLaunch
from tests.factories import CompanyFactory, UserFactory
from tests.processes import queue_paused
from tests.runs import (
    children_finished,
    children_under_way,
    children_waiting_when_started,
    company_busy,
    launch,
    poll,
)  # fmt: skip

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
CHILDREN = 10
CONCURRENCY = 2  # the session's worker


@pytest.fixture
def http(live_server, celery_worker_process, live_simulator):
    _, key = AuthToken.objects.create(user=UserFactory(is_superuser=True), expiry=None)
    headers = {"Authorization": f"Token {key}"}
    with httpx.Client(base_url=f"{live_server.url}/api/celery", headers=headers) as client:
        yield client


def sync_now(http: httpx.Client, company) -> str:
    body = {"task_type": "sii.sync_documents", "params": {"company_id": str(company.pk)}}
    return http.post("/tasks/launch", json=body).json()["task_id"]


def test_a_users_sync_starts_before_the_night_s_children_queued_ahead_of_it(http, live_simulator):
    for _ in range(CHILDREN):
        CompanyFactory(subscribed=True)
    mine = CompanyFactory()  # no subscription: no child of the night syncs it
    live_simulator.faults.add("CAutInicio.cgi", "delay:1500", times=None)  # every sync logs in slowly
    night = launch("sii.sync_documents_all_companies")  # published as beat's are: to `sii`
    ahead = children_under_way(parent_id=night, count=CHILDREN)

    task_id = sync_now(http, mine)

    assert poll(http, task_id)["status"] == "SUCCESS"
    assert ahead >= CHILDREN - 2 * CONCURRENCY  # the queue was deep
    # Ordering, not timing: when it started, the children queued ahead of it still waited, but
    # for at most one per worker process (taken before it was published, not yet shown STARTED).
    assert children_waiting_when_started(parent_id=night, task_id=task_id) >= ahead - CONCURRENCY
    children_finished(parent_id=night)


def test_a_users_sync_that_retries_comes_back_to_the_on_demand_queue(http):
    company = CompanyFactory(subscribed=True)

    with queue_paused(celery_app, settings.SII_QUEUE):  # a retry sent to the children's queue would wait
        with company_busy(company):
            task_id = sync_now(http, company)
            poll(http, task_id, until=("RETRY",), timeout=30)
        body = poll(http, task_id, timeout=30)

    assert body["status"] == "SUCCESS", body["traceback"]
    assert TaskLaunch.objects.get(task_id=task_id).retries == 1


def test_the_worker_takes_the_on_demand_queue_first_and_the_children_s_last(celery_worker_process):
    (queues,) = celery_app.control.inspect(timeout=2).active_queues().values()

    assert [queue["name"] for queue in queues] == [
        settings.SII_ONDEMAND_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE, settings.SII_QUEUE
    ]  # fmt: skip
