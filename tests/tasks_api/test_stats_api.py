"""GET /api/celery/stats: the snapshots the workers push, read without asking them anything."""

from types import SimpleNamespace

import pytest
from celery import Celery
from celery.worker import state as worker_state
from django.conf import settings
from kombu.pidbox import Mailbox

from tasks_api.selectors.stats import celery_stats_get
from tasks_api.snapshots import snapshot_drop, snapshot_push
from tasks_api.worker import snapshot as worker_snapshot
from tests.factories import CompanyFactory, UserFactory
from tests.processes import WorkerProcess, wait_for, worker_env
from tests.tasks_api.conftest import client_for

pytestmark = pytest.mark.django_db
CONTRACT_KEYS = {"active_tasks", "scheduled_tasks", "registered_tasks", "worker_stats"}


def broker_of_its_own() -> str:
    """A database of the test Redis that neither the session's worker nor quiet_broker uses."""
    base, _, db = settings.CELERY_BROKER_URL.rpartition("/")
    return f"{base}/{12 if db != '12' else 11}"


def lonely_app() -> Celery:
    return Celery(broker=broker_of_its_own(), set_as_current=False)


def snapshot(*, registered=("sii.sync_documents",), active=()) -> dict:
    return {
        "active": [{"id": task_id} for task_id in active], "scheduled": [], "reserved": [],
        "registered": list(registered), "stats": {"pool": {"max-concurrency": 2}},
        "collected_at": "2026-01-02T03:04:05+00:00",
    }  # fmt: skip


@pytest.fixture
def store_of_its_own(settings):
    """A per-process cache (emptied before each test) instead of the one the session's worker fills."""
    settings.TASKS_API_STATS_CACHE = "default"


@pytest.mark.timeout(15)  # a hang is the failure this guards against; speed is not measured here
def test_with_no_worker_stats_answer_with_empty_maps_not_an_error():
    stats = celery_stats_get(app=lonely_app())

    assert stats["active_tasks"] == stats["scheduled_tasks"] == stats["worker_stats"] == {}
    assert stats["registered_tasks"] == stats["workers_online"] == []
    assert stats["queues"] == {"celery": 0}


def test_stats_never_ask_the_workers(viewer_api, monkeypatch):
    asked = []
    # Every inspect, ping and broadcast goes through here.
    monkeypatch.setattr(Mailbox, "_broadcast", lambda *args, **kwargs: asked.append(args) or [])

    assert viewer_api.get("/api/celery/stats").status_code == 200
    assert asked == []


def test_stats_merge_every_pushed_snapshot_and_leave_out_dropped_ones(store_of_its_own):
    app = lonely_app()
    snapshot_push(app=app, hostname="celery@a", snapshot=snapshot(active=["t1"]))
    snapshot_push(
        app=app, hostname="celery@b", snapshot=snapshot(registered=["sii.sync_f29", "sii.sync_documents"])
    )
    snapshot_push(app=app, hostname="celery@gone", snapshot=snapshot())
    snapshot_drop(app=app, hostname="celery@gone")

    stats = celery_stats_get(app=app)

    assert stats["workers_online"] == ["celery@a", "celery@b"]
    assert stats["registered_tasks"] == ["sii.sync_documents", "sii.sync_f29"]
    assert stats["active_tasks"] == {"celery@a": [{"id": "t1"}], "celery@b": []}
    assert stats["collected_at"]["celery@a"] == "2026-01-02T03:04:05+00:00"


def test_a_worker_that_joins_shows_in_the_next_answer(store_of_its_own):
    app = lonely_app()
    snapshot_push(app=app, hostname="celery@first", snapshot=snapshot())
    assert celery_stats_get(app=app)["workers_online"] == ["celery@first"]

    snapshot_push(app=app, hostname="celery@second", snapshot=snapshot())

    assert celery_stats_get(app=app)["workers_online"] == ["celery@first", "celery@second"]


def test_the_workers_of_another_broker_are_not_listed(store_of_its_own):
    snapshot_push(app=lonely_app(), hostname="celery@elsewhere", snapshot=snapshot())

    assert celery_stats_get()["workers_online"] == []


@pytest.mark.e2e
def test_stats_show_the_worker_its_tasks_and_the_queues(viewer_api, celery_worker_process):
    response = viewer_api.get("/api/celery/stats")

    assert response.status_code == 200
    stats = response.json()
    assert set(stats) >= CONTRACT_KEYS
    (worker,) = stats["workers_online"]
    assert {"sii.sync_documents", "sii.sync_f29_all_companies"} <= set(stats["registered_tasks"])
    assert stats["worker_stats"][worker]["pool"]["max-concurrency"] == 2
    assert stats["active_tasks"][worker] == []
    assert list(stats["queues"]) == [
        settings.SII_ONDEMAND_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE, settings.SII_QUEUE
    ]  # fmt: skip
    assert set(stats["collected_at"]) == {worker}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_running_task_shows_in_its_workers_active_tasks(celery_worker_process, live_simulator):
    api = client_for(UserFactory(is_superuser=True))
    live_simulator.faults.add("getResumen", "delay:20000", times=None)
    launched = api.post(
        "/api/celery/tasks/launch",
        {"task_type": "sii.sync_documents", "params": {"company_id": str(CompanyFactory().pk)}},
        format="json",
    )
    task_id = launched.json()["task_id"]

    def active_ids() -> set[str]:
        active = api.get("/api/celery/stats").json()["active_tasks"]
        return {task["id"] for tasks in active.values() for task in tasks}

    try:
        wait_for(lambda: task_id in active_ids(), timeout=30, what="the task among the active ones")
    finally:
        api.delete(f"/api/celery/tasks/{task_id}?terminate=true")
    wait_for(lambda: task_id not in active_ids(), timeout=30, what="the terminated task to leave")


@pytest.fixture
def own_worker(tmp_path, served_simulator):
    """A worker of its own on a broker of its own, pushing every half second."""
    env = worker_env(
        database=settings.DATABASES["default"], simulator_url=served_simulator[1],
        extra={"CELERY_BROKER_URL": broker_of_its_own(), "TASKS_API_STATS_PUSH_SECONDS": "0.5"},
    )  # fmt: skip
    app = lonely_app()
    app.connection_for_write().default_channel.client.flushdb()
    worker = WorkerProcess(env=env, log_path=tmp_path / "worker.log", concurrency=1)
    try:
        worker.wait_ready(app)
        wait_for(lambda: celery_stats_get(app=app)["workers_online"], timeout=10, what="its first snapshot")
        yield worker, app
    finally:
        worker.stop()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_shuts_down_leaves_the_stats_at_once(own_worker):
    worker, app = own_worker

    worker.stop()

    assert celery_stats_get(app=app)["workers_online"] == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_the_stats_when_its_snapshot_expires(own_worker):
    worker, app = own_worker

    worker.process.kill()

    wait_for(
        lambda: not celery_stats_get(app=app)["workers_online"], timeout=15, what="its snapshot to expire"
    )


def test_a_viewer_may_read_stats_but_not_anonymous_users(viewer_api, client):
    assert viewer_api.get("/api/celery/stats").status_code == 200
    assert client.get("/api/celery/stats").status_code == 401


def test_a_worker_shutting_down_pushes_no_snapshot_since_its_pool_may_be_gone(monkeypatch):
    pushed = []
    monkeypatch.setattr(worker_snapshot, "snapshot_push", lambda **snapshot: pushed.append(snapshot))
    monkeypatch.setattr(worker_snapshot, "snapshot_collect", lambda consumer: {})
    step = worker_snapshot.SnapshotPush(parent=None)
    consumer = SimpleNamespace(app=None, hostname="celery@stopping")
    step.push(consumer)
    assert len(pushed) == 1

    monkeypatch.setattr(worker_state, "should_stop", 0)  # what a warm shutdown sets
    step.push(consumer)

    assert len(pushed) == 1
