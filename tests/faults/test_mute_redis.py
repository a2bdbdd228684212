"""A mute broker, as compose has it (the same Redis as REDIS_URL) or on its own: launches fail
fast, reads never wait on it, and launches work again once it answers.

Mute: the broker's Redis is stopped (SIGSTOP), so connections still open (the kernel's backlog
takes them) but nothing ever answers: only a client's timeouts end its calls. The web server is
one gunicorn process: the breakers are per process, and one process makes the second launch meet
the breaker the first one opened (compose's two processes each pay the first timeout once).
Run with -s to see the measured figures (README "What happens when…").
"""

import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from django.conf import settings

from support.processes import free_port
from support.waits import scaled, wait_for
from tests.faults.conftest import ARTIFACTS, manage, project_env
from tests.faults.servers import ThrowawayRedis
from tests.faults.trials import RECOVERY
from tests.processes import WebServer

pytestmark = pytest.mark.faults
# Short, so that launches work again within seconds of the broker answering again (default: 10);
# long enough to outlast the first launch and reach the next one on a slow machine.
BREAKER_SECONDS = scaled(3)
# A superuser's API token and a company to sync, in the web server's database.
SETUP = (
    "from django.contrib.auth import get_user_model; from knox.models import AuthToken; "
    "from sii.models import Company; "
    "user = get_user_model().objects.create_superuser('mute', password=None); "
    "_, key = AuthToken.objects.create(user=user, expiry=None); "
    "company = Company.objects.create(name='Muda SpA', rut_body=76086428, rut_dv='5'); "
    "print(key, company.pk)"
)


@dataclass
class Layout:
    name: str
    broker: ThrowawayRedis
    redis: ThrowawayRedis  # REDIS_URL's: the shared cache, launch rates, notifications, metrics


@dataclass
class Api:
    client: httpx.Client
    company_id: str

    def launch(self) -> httpx.Response:
        body = {"task_type": "sii.sync_documents", "params": {"company_id": self.company_id}}
        return self.client.post("/tasks/launch", json=body)

    def failed_runs(self) -> int:
        return self.client.get("/runs", params={"status": "FAILURE"}).json()["count"]


@dataclass
class Timed:
    """A call's answer, how long it took, and when it ended (time.monotonic())."""

    answer: httpx.Response
    took: float
    ended: float


def timed(call: Callable[[], httpx.Response]) -> Timed:
    start = time.monotonic()
    answer = call()
    ended = time.monotonic()
    return Timed(answer, ended - start, ended)


@pytest.fixture(scope="module", params=["compose", "broker-only"])
def layout(request, fault_dir) -> Iterator[Layout]:
    """The broker and REDIS_URL on one Redis (compose), or REDIS_URL on another that stays up."""

    def server() -> ThrowawayRedis:
        return ThrowawayRedis(fault_dir / f"mute-redis-{uuid.uuid4().hex[:8]}", appendonly=False)

    with server() as broker:
        if request.param == "compose":
            yield Layout(request.param, broker, broker)
            return
        with server() as other:
            yield Layout(request.param, broker, other)


@pytest.fixture(scope="module")
def api(fault_dir, fault_postgres, migrated_template, layout) -> Iterator[Api]:
    """The API of a gunicorn web server (one process) on its own database and on `layout`."""
    database_url = fault_postgres.createdb(f"mute_{uuid.uuid4().hex[:12]}", template=migrated_template)
    env = project_env(database_url=database_url, broker_url=layout.broker.url(), var_dir=fault_dir / "var")
    env |= {
        "REDIS_URL": layout.redis.url(),
        "TASKS_API_PUBLISH_BREAKER_SECONDS": str(BREAKER_SECONDS),
        "API_LAUNCH_RATE": "100000/min",  # the recovery polls launch; the rate is not what is tested
    }
    token, company_id = manage(env, "shell", "--no-imports", "-c", SETUP).split()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"mute-redis-{layout.name}-web.log"
    web = WebServer(env=env, port=free_port(), log_path=log_path, gunicorn=True, workers=1)
    headers = {"Authorization": f"Token {token}"}
    try:
        web.wait_ready()
        base_url = f"{web.base_url}/api/celery"
        with httpx.Client(base_url=base_url, headers=headers, timeout=scaled(60)) as client:
            yield Api(client, company_id)
    finally:
        web.stop()


@contextmanager
def muted(server: ThrowawayRedis) -> Iterator[None]:
    """The server alive but answering nothing (SIGSTOP) for the block."""
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


def launch_in_thread(api: Api) -> tuple[threading.Thread, list[Timed]]:
    done: list[Timed] = []
    thread = threading.Thread(target=lambda: done.append(timed(api.launch)))
    thread.start()
    return thread, done


@pytest.mark.trials(2)
@pytest.mark.timeout(180)
def test_a_mute_broker_fails_launches_fast_never_stalls_reads_and_launches_resume_once_it_answers(
    request, record_property, api, layout
):
    timeout = settings.REDIS_TIMEOUT  # the web server's too: it inherits this run's environment
    existing = api.launch()
    assert existing.status_code == 202, existing.text
    existing_id = existing.json()["task_id"]
    failed_before = api.failed_runs()

    with muted(layout.broker):
        thread, launched = launch_in_thread(api)
        time.sleep(0.1)  # the launch reaches its first Redis call
        read = timed(lambda: api.client.get(f"/tasks/{existing_id}"))
        thread.join()
        breaker = timed(api.launch)
        stats = timed(lambda: api.client.get("/stats"))
        runs = timed(lambda: api.client.get("/runs"))
    first = launched[0]
    print(
        f"\nmute broker [{request.node.callspec.id}]: first launch {first.took:.2f} s, "
        f"breaker launch {breaker.took:.3f} s, status read {read.took:.3f} s, "
        f"stats {stats.took:.3f} s, runs {runs.took:.3f} s"
    )

    for failed in (first, breaker):
        assert failed.answer.status_code == 500, failed.answer.text
        assert failed.answer.json()["detail"].startswith("Failed to launch task: ")
    assert first.took < scaled(3 * timeout)
    assert breaker.took < scaled(timeout)  # it waited on nothing
    assert read.answer.status_code == 200
    assert read.answer.json()["status"] == "PENDING"
    assert read.took < scaled(timeout)
    assert read.ended < first.ended  # answered while the launch still waited on the broker
    assert (stats.answer.status_code, runs.answer.status_code) == (200, 200)
    assert max(stats.took, runs.took) < scaled(timeout)
    assert api.failed_runs() == failed_before + 2  # both launches recorded as FAILURE

    answering = time.monotonic()
    resumed = wait_for(
        lambda: (answer := api.launch()).status_code == 202 and answer,
        timeout=BREAKER_SECONDS + 3 * timeout + 5,
        interval=0.5,
        what="a launch to be accepted once the broker answers again",
    )
    assert resumed.json()["status"] == "PENDING"
    record_property(RECOVERY, time.monotonic() - answering)  # about BREAKER_SECONDS
