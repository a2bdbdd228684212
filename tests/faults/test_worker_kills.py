"""Real kills around a running system: pool processes, the worker, PostgreSQL and Redis restarts."""

import json
import os
import signal

import pytest
from django.conf import settings

from sii.models import PurchaseDocument
from tasks_api.models import TaskLaunch
from tests.faults.syncs import LOGIN, MONTHS, periods, sync_until_waiting_on_the_sii
from tests.processes import wait_for

pytestmark = pytest.mark.faults


@pytest.mark.trials(2)
def test_a_pool_process_killed_mid_sync_is_redelivered_and_the_sync_completes_once(system):
    company = system.create_company()
    system.start_worker(wait=False)
    task_id = sync_until_waiting_on_the_sii(system, company, delay_ms=30_000)
    saved_before_kill = PurchaseDocument.objects.using(system.db).filter(company_id=company.pk).count()

    os.kill(system.task_pid(task_id), signal.SIGKILL)
    system.fault_over()

    stored = system.wait_status(task_id, timeout=60)
    assert stored.status == "SUCCESS", stored.traceback
    expected = system.expected_keys(company, periods())
    assert system.synced_keys(company) == expected
    assert TaskLaunch.objects.using(system.db).count() == 1
    assert (
        TaskLaunch.objects.using(system.db).get(task_id=task_id).deliveries == 2
    )  # the killed run and its redelivery
    assert system.simulator.requests_to(LOGIN) == 1  # the second carried on the first one's SII session
    compras = json.loads(stored.result)["compras"]
    assert 0 < saved_before_kill < len(expected["compras"])
    assert (compras["total"], compras["unchanged"]) == (len(expected["compras"]), saved_before_kill)


@pytest.mark.trials(2)
def test_a_worker_warm_shut_down_mid_sync_finishes_it_and_a_new_worker_runs_nothing_twice(system):
    company = system.create_company()
    worker = system.start_worker(wait=False)
    task_id = sync_until_waiting_on_the_sii(system, company, delay_ms=3_000)

    worker.process.send_signal(signal.SIGTERM)
    system.fault_over()

    assert worker.wait(timeout=30) == 0
    # Warm shutdown: the run finished and was acknowledged, so nothing waits to be redelivered.
    assert system.wait_status(task_id, timeout=1).status == "SUCCESS"
    broker = system.redis.client()
    assert (broker.llen(settings.SII_QUEUE), broker.hlen("unacked")) == (0, 0)
    system.start_worker()
    assert system.wait_status(task_id, timeout=1).status == "SUCCESS"
    assert system.synced_keys(company) == system.expected_keys(company, periods())
    assert TaskLaunch.objects.using(system.db).count() == 1
    assert system.simulator.requests_to(LOGIN) == 1


@pytest.mark.trials(2)
def test_the_worker_survives_a_postgresql_restart_and_the_next_launch_succeeds(system):
    company = system.create_company()
    worker = system.start_worker(wait=False)
    first = system.wait_status(system.launch("sii.sync_documents", company_id=str(company.pk), **MONTHS))
    assert first.status == "SUCCESS", first.traceback
    started_at = system.postgres.started_at()

    system.postgres.restart(mode="fast")
    system.fault_over()

    assert system.postgres.started_at() > started_at

    second = system.wait_status(system.launch("sii.sync_documents", company_id=str(company.pk), **MONTHS))
    assert second.status == "SUCCESS", second.traceback
    assert worker.process.poll() is None
    assert system.synced_keys(company) == system.expected_keys(company, periods())
    assert TaskLaunch.objects.using(system.db).count() == 2


@pytest.mark.trials(2)
def test_a_launch_published_before_a_redis_crash_survives_in_the_append_only_file_and_runs(system):
    company = system.create_company()
    task_id = system.launch("sii.sync_documents", company_id=str(company.pk), **MONTHS)  # no worker yet
    assert system.redis.client().llen(settings.SII_QUEUE) == 1
    # appendfsync everysec: wait for the message to reach the file, or the kill may lose it.
    wait_for(
        lambda: system.redis.aof_contains(task_id.encode()), timeout=5, what="the AOF to hold the message"
    )

    system.redis.kill()
    system.redis.start()
    system.fault_over()

    assert system.redis.client().llen(settings.SII_QUEUE) == 1
    system.start_worker(wait=False)
    stored = system.wait_status(task_id, timeout=60)
    assert stored.status == "SUCCESS", stored.traceback
    assert system.synced_keys(company) == system.expected_keys(company, periods())
    assert TaskLaunch.objects.using(system.db).count() == 1
    assert system.simulator.requests_to(LOGIN) == 1
