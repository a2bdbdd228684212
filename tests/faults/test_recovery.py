"""An operator's bad day: outages, dead workers, lost messages, killed and revoked fan-outs.

Each scenario asserts that nothing accepted is lost, nothing runs twice (exact launch and row
counts, one login per run) and every run ends in a true final state within a bound.
"""

import json
import os
import signal
import sys
import time
from datetime import datetime

import pytest
from django.conf import settings
from django_celery_results.models import TaskResult

from sii.models import Company
from support.processes import ManagedProcess
from support.waits import wait_for
from tasks_api.models import RunAttempt, TaskLaunch
from tests.faults.syncs import BHE, LOGIN, MONTHS, periods, sync_until_waiting_on_the_sii

pytestmark = pytest.mark.faults
FAN_OUT = "sii.sync_documents_all_companies"


def launch_of(system, task_id: str) -> TaskLaunch:
    return TaskLaunch.objects.using(system.db).get(task_id=task_id)


def error_of(stored: TaskResult) -> str:
    return " ".join(json.loads(stored.result)["exc_message"])


# Outage lengths, seconds: make faults runs 5, 30, 60, 120 and 240 (FAULTS_OUTAGE_SECONDS).
OUTAGES = [int(seconds) for seconds in os.environ.get("FAULTS_OUTAGE_SECONDS", "6,45").split(",")]


@pytest.mark.parametrize("outage", OUTAGES, ids=[f"{seconds}s" for seconds in OUTAGES])
def test_a_sync_interrupted_by_a_postgresql_outage_starts_again_and_completes_once(system, outage):
    company = system.create_company()
    system.start_worker(wait=False)
    task_id = sync_until_waiting_on_the_sii(system, company, delay_ms=3_000)

    system.postgres.stop(mode="fast")  # the SII answers while the database is away
    time.sleep(outage)
    system.postgres.start()
    system.fault_over()

    stored = system.wait_status(task_id, timeout=180)
    print(f"{outage} s outage: SUCCESS {system.recovery_seconds()} s after the database was back")
    assert stored.status == "SUCCESS", stored.traceback
    assert system.synced_keys(company) == system.expected_keys(company, periods())
    assert TaskLaunch.objects.using(system.db).count() == 1


def test_a_worker_killed_mid_sync_is_noticed_within_seconds_and_its_run_completes_once(system):
    company = system.create_company()
    system.start_reconciling_beat()
    worker = system.start_worker(wait=False)
    task_id = sync_until_waiting_on_the_sii(system, company, delay_ms=60_000)

    worker.process.kill()  # the main process; its pool process dies with it
    system.fault_over()
    system.start_worker(wait=False)  # another worker: it runs the reconciler, and then the run

    noticed = system.wait_status(task_id, statuses=("RETRY", "SUCCESS"), timeout=60)
    print(f"worker loss noticed after {system.recovery_seconds()} s")
    assert noticed.status == "SUCCESS" or "The worker running this task died" in error_of(noticed)
    stored = system.wait_status(task_id, timeout=90)
    assert stored.status == "SUCCESS", stored.traceback
    assert system.synced_keys(company) == system.expected_keys(company, periods())
    assert (launch_of(system, task_id).lost_deliveries, TaskLaunch.objects.using(system.db).count()) == (1, 1)
    assert launch_of(system, task_id).deliveries == 2  # the killed run and the one that completed
    assert system.simulator.requests_to(LOGIN) == 1  # the second carried on the first one's SII session


def test_a_postgresql_restart_mid_sync_is_not_taken_for_the_death_of_the_worker(system):
    company = system.create_company()
    system.start_reconciling_beat()
    system.start_worker(concurrency=2, wait=False)  # one process free for the reconciler
    task_id = sync_until_waiting_on_the_sii(system, company, delay_ms=20_000)

    system.postgres.restart(mode="fast")  # every advisory lock goes; the worker still waits on the SII
    system.fault_over()

    # The reconciler runs every 5 s meanwhile: a missing lock must not read as a dead worker.
    stored = system.wait_status(task_id, timeout=120)
    assert stored.status == "SUCCESS", stored.traceback
    assert launch_of(system, task_id).lost_deliveries == 0
    outcomes = set(
        RunAttempt.objects.using(system.db).filter(run_id=task_id).values_list("outcome", flat=True)
    )
    assert "lost" not in outcomes
    assert system.synced_keys(company) == system.expected_keys(company, periods())


@pytest.mark.trials(2)
def test_a_run_whose_worker_dies_every_time_fails_after_three_lost_deliveries(system):
    company = system.create_company()
    system.start_worker(wait=False)
    task_id = sync_until_waiting_on_the_sii(system, company, delay_ms=60_000, times=None)

    for delivery in range(1, 4):
        wait_for(
            lambda n=delivery: system.simulator.requests_to(BHE) == n, timeout=60, what=f"delivery {delivery}"
        )
        os.kill(system.task_pid(task_id), signal.SIGKILL)
    system.fault_over()

    stored = system.wait_status(task_id, timeout=60)
    assert stored.status == "FAILURE"
    assert "died 3 times" in error_of(stored)
    launch = launch_of(system, task_id)
    assert (launch.deliveries, launch.lost_deliveries) == (3, 3)
    assert system.simulator.requests_to(LOGIN) == 1  # each delivery carried on the first one's session


def test_a_run_whose_worker_died_holds_its_company_no_longer(system):
    company = system.create_company()
    system.start_worker(concurrency=2, wait=False)
    poison = sync_until_waiting_on_the_sii(system, company, delay_ms=60_000, times=None)
    waiting = system.launch("sii.sync_f29", company_id=str(company.pk))  # the same company's lock
    system.wait_status(waiting, statuses=("RETRY",), timeout=30)  # it found the company busy

    for delivery in range(1, 4):  # every delivery of the poison run dies: it fails for good
        wait_for(
            lambda n=delivery: system.simulator.requests_to(BHE) == n, timeout=60, what=f"delivery {delivery}"
        )
        os.kill(system.task_pid(poison), signal.SIGKILL)
    system.fault_over()

    # A lock lasts SII_SYNC_TIME_LIMIT + 60 s (12 minutes): these bounds hold only if a dead
    # holder's lock is free at once.
    assert system.wait_status(waiting, statuses=("SUCCESS", "FAILURE"), timeout=60).status == "SUCCESS"
    assert system.wait_status(poison, timeout=60).status == "FAILURE"
    after = system.launch("sii.sync_f29", company_id=str(company.pk))
    assert system.wait_status(after, timeout=30).status == "SUCCESS"
    assert launch_of(system, after).retries == 0  # it never waited for the failed run's lock
    assert Company.objects.using(system.db).get(pk=company.pk).sync_lock_holder == ""


def children_of(system, parent: str):
    return TaskLaunch.objects.using(system.db).filter(parent_id=parent)


def test_a_fan_out_parent_killed_mid_dispatch_launches_every_child_exactly_once(system):
    companies = system.create_companies_without_clave(600)
    system.start_reconciling_beat()
    worker = system.start_worker(SII_FANOUT_BATCH_SIZE="3")
    parent = system.launch(FAN_OUT, **MONTHS)

    wait_for(lambda: children_of(system, parent).exists(), timeout=30, interval=0.01, what="the dispatch")
    worker.process.kill()
    system.fault_over()
    recorded_at_kill = children_of(system, parent).count()
    system.start_worker(concurrency=2, SII_FANOUT_BATCH_SIZE="3")

    assert system.wait_status(parent, timeout=90).status == "SUCCESS"
    children = children_of(system, parent)
    wait_for(
        lambda: finished_ids(system).filter(task_id__in=children.values("task_id")).count() == 600,
        timeout=180, interval=1, what="every child to finish",
    )  # fmt: skip
    assert 0 < recorded_at_kill < 600  # the kill landed mid-dispatch
    assert sorted(str(subject) for subject in children.values_list("subject_id", flat=True)) == sorted(
        companies
    )
    assert set(children.values_list("deliveries", flat=True)) == {1}  # each child ran once
    assert json.loads(system.wait_status(parent).result)["dispatched"] == 600


@pytest.mark.trials(2)
def test_a_fan_out_parent_revoked_mid_dispatch_publishes_no_child_after_the_revoke(system):
    system.create_companies_without_clave(600)
    system.start_worker(SII_FANOUT_BATCH_SIZE="3")
    revoker = revoke_the_fan_out_once_it_dispatches(system)
    parent = system.launch(FAN_OUT, **MONTHS)
    assert revoker.wait(timeout=60) == 0, revoker.log_tail()
    system.fault_over()
    committed = [line for line in revoker.log_tail().splitlines() if line.startswith(REVOKE_COMMITTED_AT)]
    revoke_committed_at = datetime.fromisoformat(committed[-1].removeprefix(REVOKE_COMMITTED_AT))

    assert system.wait_status(parent, timeout=60).status == "REVOKED"
    children = children_of(system, parent)
    wait_for(
        lambda: not children.filter(enqueued=True).exclude(task_id__in=finished_ids(system)).exists(),
        timeout=60, interval=0.5, what="every published child to be delivered",
    )  # fmt: skip
    assert 0 < children.count() < 600  # the dispatch stopped between batches
    # Batches that read the revocation before it committed go out (revoked on arrival); after
    # it committed, at most the one batch then between its read and its publish.
    assert children.filter(published_at__gt=revoke_committed_at).count() <= 3
    statuses = set(
        TaskResult.objects.using(system.db)
        .filter(task_id__in=children.values("task_id"))
        .values_list("status", flat=True)
    )
    assert statuses <= {"REVOKED"}  # none ran
    meta = json.loads(system.shell(
        "import json; from tasks_api.selectors.status import task_status_get; "
        f"print(json.dumps(task_status_get(task_id={parent!r})['meta']))"
    ))  # fmt: skip
    assert meta["children_done"] is True  # the API says what the children endpoint shows
    assert meta["children"]["revoked"] == children.count()


def finished_ids(system):
    return (
        TaskResult.objects.using(system.db)
        .filter(status__in=("SUCCESS", "FAILURE", "REVOKED"))
        .values("task_id")
    )


REVOKE_COMMITTED_AT = "revoke committed at "


def revoke_the_fan_out_once_it_dispatches(system) -> ManagedProcess:
    """A process that revokes the fan-out the moment its first children are recorded (a shell
    started beforehand: starting Django takes longer than a whole dispatch)."""
    code = (
        "import time\nfrom tasks_api.models import TaskLaunch\n"
        "from tasks_api.services.revocations import task_revoke\n"
        f"while not TaskLaunch.objects.filter(task_type={FAN_OUT!r}, children__isnull=False).exists():\n"
        "    time.sleep(0.005)\n"
        f"task_revoke(task_id=TaskLaunch.objects.get(task_type={FAN_OUT!r}).task_id)\n"
        "from django.utils import timezone\n"
        f"print({REVOKE_COMMITTED_AT!r} + timezone.now().isoformat())\n"  # once committed
    )
    command = [sys.executable, "manage.py", "shell", "--no-imports", "-c", code]
    return ManagedProcess(command, system.logs / "revoker.log", name="the revoker", env=system.env).start()


@pytest.mark.trials(2)
def test_launches_the_broker_lost_are_published_again_and_each_runs_once(system):
    first = system.create_company()
    second = system.create_company(name="Otra SpA", rut="76.354.771-K")
    task_ids = [system.launch("sii.sync_f29", company_id=str(company.pk)) for company in (first, second)]

    system.redis.client().flushall()  # as Redis restarted without persistence would
    system.fault_over()
    system.start_reconciling_beat()
    system.start_worker()

    for task_id in task_ids:
        stored = system.wait_status(task_id, timeout=90)
        assert stored.status == "SUCCESS", stored.traceback
    assert TaskLaunch.objects.using(system.db).count() == 2
    assert system.simulator.requests_to(LOGIN) == 2


def test_a_retry_the_broker_lost_runs_a_grace_after_its_due_time(system):
    company = system.create_company()
    worker = system.start_worker(wait=False)
    task_id = sync_until_waiting_on_the_sii(system, company, delay_ms=2_000)
    system.postgres.stop(mode="fast")  # the sync meets the outage: it schedules its retry
    # The worker's main process, which would deliver the retry, stops; its pool process goes on
    # and stores the RETRY once the database is back, however slowly the machine restarts it.
    worker.process.send_signal(signal.SIGSTOP)
    time.sleep(3)
    system.postgres.start()
    system.wait_status(task_id, statuses=("RETRY",), timeout=60)

    worker.stop(signal.SIGKILL)  # the worker held the retry's message, never delivered
    system.redis.client().flushall()  # and the broker lost its copy
    system.fault_over()
    system.start_reconciling_beat()
    system.start_worker()

    stored = system.wait_status(task_id, timeout=120)  # TASKS_API_RETRY_STALE_SECONDS would be 35 min
    assert stored.status == "SUCCESS", stored.traceback
    outcomes = list(
        RunAttempt.objects.using(system.db).filter(run_id=task_id).values_list("outcome", flat=True)
    )
    assert outcomes == ["retry", "succeeded"]
    assert system.synced_keys(company) == system.expected_keys(company, periods())


@pytest.mark.trials(2)
def test_a_running_sync_survives_a_redis_restart_and_runs_once(system):
    company = system.create_company()
    system.start_worker(wait=False)
    task_id = sync_until_waiting_on_the_sii(system, company, delay_ms=5_000)

    system.redis.kill()
    time.sleep(2)
    system.redis.start()
    system.fault_over()

    stored = system.wait_status(task_id, timeout=90)
    assert stored.status == "SUCCESS", stored.traceback
    time.sleep(3)  # a redelivered copy of the message, if any, has had time to arrive
    assert system.synced_keys(company) == system.expected_keys(company, periods())
    assert system.simulator.requests_to(LOGIN) == 1
    assert launch_of(system, task_id).deliveries == 1
    assert settings.CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS is False
