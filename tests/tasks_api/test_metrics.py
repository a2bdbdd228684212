"""GET /metrics and the shared store behind it: token, text format, flushes, processes adding up."""

import os
import signal
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tasks_api.metrics import metric_names, metrics_flush
from tasks_api.metrics.buffer import MetricsBuffer
from tasks_api.metrics.families import families, sample_key
from tasks_api.metrics.stores import DatabaseMetricsStore, RedisMetricsStore, metrics_store
from tasks_api.models import SchedulerLease
from tasks_api.services.launches import task_launch
from tasks_api.services.revocations import TaskAlreadyFinished, task_revoke
from tasks_api.worker.beat import LEASE_NAME
from tests.factories import TaskLaunchFactory
from tests.metrics import TOKEN, scrape, scraped_families, value
from tests.processes import free_port, wait_for
from tests.runs import stored

pytestmark = pytest.mark.django_db


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Token {TOKEN}", f"Bearer{TOKEN}", "Bearer é"]
)
def test_metrics_refuse_a_missing_or_wrong_token(client, metrics_on, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = client.get("/metrics", **extra)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_answer_the_text_format_with_every_core_family(client, metrics_on):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert scraped_families(client) == metric_names()
    assert "sii_requests_total" in metric_names()  # sii declares its own when its app is ready


def test_a_launch_is_counted_by_task_type_and_launcher_once_committed(
    client, metrics_on, company, quiet_broker, django_capture_on_commit_callbacks
):
    labels = {"task_type": "sii.sync_f29", "launched_by": "user"}
    before = value(scrape(client), "tasks_api_launches_total", **labels)

    with django_capture_on_commit_callbacks(execute=True):
        task_launch(task_type="sii.sync_f29", params={"company_id": str(company.pk)}, launched_by="user")
    metrics_flush()

    assert value(scrape(client), "tasks_api_launches_total", **labels) == before + 1


def test_a_launch_rolled_back_with_its_caller_is_not_counted(client, metrics_on, company, quiet_broker):
    labels = {"task_type": "sii.sync_f29", "launched_by": "user"}
    before = value(scrape(client), "tasks_api_launches_total", **labels)

    def launch_then_fail() -> None:
        with transaction.atomic():
            task_launch(task_type="sii.sync_f29", params={"company_id": str(company.pk)}, launched_by="user")
            raise RuntimeError("the caller fails after the launch")

    with pytest.raises(RuntimeError):
        launch_then_fail()
    metrics_flush()

    assert value(scrape(client), "tasks_api_launches_total", **labels) == before


def test_a_revoked_run_is_counted_once(
    client, metrics_on, company, quiet_broker, django_capture_on_commit_callbacks
):
    labels = {"task_type": "sii.sync_f29", "state": "REVOKED"}
    before = value(scrape(client), "tasks_api_runs_finished_total", **labels)
    with django_capture_on_commit_callbacks(execute=True):
        launch = task_launch(
            task_type="sii.sync_f29", params={"company_id": str(company.pk)}, launched_by="user"
        )

    with django_capture_on_commit_callbacks(execute=True):
        task_revoke(task_id=launch.task_id)
    with pytest.raises(TaskAlreadyFinished), django_capture_on_commit_callbacks(execute=True):
        task_revoke(task_id=launch.task_id)
    metrics_flush()

    assert value(scrape(client), "tasks_api_runs_finished_total", **labels) == before + 1


def test_a_running_run_revoked_twice_is_counted_once(
    client, metrics_on, quiet_broker, django_capture_on_commit_callbacks
):
    launch = TaskLaunchFactory(task_type="sii.sync_f29", enqueued=True)
    stored(launch, "STARTED")
    labels = {"task_type": "sii.sync_f29", "state": "REVOKED"}
    before = value(scrape(client), "tasks_api_runs_finished_total", **labels)

    for _ in range(2):  # still STARTED: its worker has not stopped it yet
        with django_capture_on_commit_callbacks(execute=True):
            assert task_revoke(task_id=launch.task_id) == [launch.task_id]
    metrics_flush()

    assert value(scrape(client), "tasks_api_runs_finished_total", **labels) == before + 1


def test_label_values_are_escaped_in_the_text_format(client, metrics_on):
    odd = f'quote " backslash \\ newline \n {uuid.uuid4()}'
    family = next(f for f in families() if f.name == "sii_rows_synced_total")
    metrics_store().add({sample_key(family, {"surface": odd, "change": "created"}): 2.0})

    assert value(scrape(client), "sii_rows_synced_total", surface=odd, change="created") == 2.0


def redis_store() -> RedisMetricsStore:
    return RedisMetricsStore(settings.TASKS_API_METRICS_REDIS_URL)


STORES = {"redis": redis_store, "database": DatabaseMetricsStore}


@pytest.fixture(params=sorted(STORES))
def store(request):
    if request.param == "redis" and not settings.TASKS_API_METRICS_REDIS_URL:
        pytest.fail("The Redis store tests need REDIS_URL (make test sets it).")
    return STORES[request.param]()


def unique_key() -> str:
    return f'["test_metric",["{uuid.uuid4()}"],""]'


def test_increments_add_up_across_flushes(store):
    key = unique_key()
    buffer = MetricsBuffer(store=lambda: store, background=False)

    buffer.add({key: 1.0})
    assert buffer.flush()
    buffer.add({key: 2.5})
    buffer.add({key: 1.0})
    assert buffer.flush()

    assert store.read()[key] == 4.5
    assert buffer.pending() == {}


def test_a_failed_flush_keeps_the_increments_for_the_next(store):
    key = unique_key()
    down = RedisMetricsStore(f"redis://127.0.0.1:{free_port()}/0")
    current = {"store": down}
    buffer = MetricsBuffer(store=lambda: current["store"], background=False)
    buffer.add({key: 2.0})

    assert buffer.flush() is False
    buffer.add({key: 1.0})
    current["store"] = store
    assert buffer.flush() is True

    assert store.read()[key] == 3.0


def test_the_flush_thread_flushes_by_itself_outlives_a_patched_sleep_and_restarts_if_it_died(monkeypatch):
    key = unique_key()
    store = redis_store()
    buffer = MetricsBuffer(store=lambda: store)
    real_sleep = time.sleep

    def patched_sleep(seconds: float) -> None:  # as a test of something else may patch it
        if threading.current_thread().name == "metrics-flush":
            raise RuntimeError("patched for another thread")
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", patched_sleep)

    buffer.add({key: 1.0})
    wait_for(lambda: store.read().get(key) == 1.0, timeout=10, what="the thread's flush")
    buffer._thread = threading.Thread(target=lambda: None)  # as if it had died
    buffer._thread.start()
    buffer._thread.join()
    buffer.add({key: 1.0})

    wait_for(lambda: store.read().get(key) == 2.0, timeout=10, what="a new thread's flush")


def test_a_signal_sent_to_the_process_never_lands_in_the_flush_thread():
    buffer = MetricsBuffer(store=redis_store)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])

    buffer.add({unique_key(): 1.0})

    assert buffer._thread is not None
    assert {signal.SIGTERM, signal.SIGQUIT, signal.SIGINT} <= _blocked_in(buffer._thread)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before  # the caller's mask is left as it was


def _blocked_in(thread: threading.Thread) -> set[signal.Signals]:
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    mask = int(next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16)
    return {sig for sig in signal.Signals if mask >> (sig - 1) & 1}


def test_two_processes_add_up_and_a_child_drops_what_it_inherited():
    key = unique_key()
    store = redis_store()
    buffer = MetricsBuffer(store=lambda: store, background=False)
    buffer.add({key: 1.0})  # pending in the parent when it forks: the parent's to flush

    pid = os.fork()
    if pid == 0:  # the child: count its own, flush, and leave without running pytest's exit
        buffer.add({key: 10.0})
        os._exit(0 if buffer.flush() else 1)
    _, status = os.waitpid(pid, 0)
    buffer.flush()

    assert os.waitstatus_to_exitcode(status) == 0
    assert store.read()[key] == 11.0


def test_the_oldest_pending_launch_age_counts_from_its_publish_until_a_worker_starts_it(client, metrics_on):
    launch = TaskLaunchFactory(published_at=timezone.now() - timedelta(minutes=10))
    stored(TaskLaunchFactory(published_at=timezone.now() - timedelta(hours=1)), "STARTED")

    assert 600 <= value(scrape(client), "tasks_api_oldest_pending_launch_age_seconds") < 700
    stored(launch, "STARTED")
    assert value(scrape(client), "tasks_api_oldest_pending_launch_age_seconds") == 0


def test_beat_s_lease_expiry_is_a_unix_timestamp(client, metrics_on):
    assert value(scrape(client), "tasks_api_beat_lease_expiry_timestamp_seconds") == 0
    expires = timezone.now() + timedelta(seconds=30)
    SchedulerLease.objects.create(name=LEASE_NAME, holder="host:1:token", expires_at=expires)

    assert value(scrape(client), "tasks_api_beat_lease_expiry_timestamp_seconds") == expires.timestamp()
