"""Shared fixtures: the SII simulator (in-process and served), a real Celery worker, brokers."""

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from sii.client.http import SiiClient, SiiClientConfig
from sii.simulator.app import SiiSimulator
from sii.simulator.server import serve_in_thread
from tasks_api.services.launches import publish_breaker_reset
from tests.factories import SIMULATOR_CLAVE, CompanyFactory, UserFactory
from tests.metrics import TOKEN
from tests.processes import WorkerProcess, free_port, worker_env

SIMULATED_HOST = "http://sii.test"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def simulator() -> SiiSimulator:
    """An in-process simulator; clients reach it through httpx's WSGI transport."""
    return SiiSimulator(today=timezone.localdate())


@pytest.fixture
def client_for(simulator):
    """Build the real SiiClient for a company, talking to the in-process simulator."""

    def build(company, password: str = SIMULATOR_CLAVE) -> SiiClient:
        urls = dict.fromkeys(("auth", "rcv", "bhe"), SIMULATED_HOST)
        config = SiiClientConfig(base_urls=urls, timeout=5.0, request_interval=0)
        return SiiClient(rut=company.rut, password=password, config=config, transport=simulator.transport())

    return build


@pytest.fixture
def superuser(client):
    """A superuser, logged in on the test client (the admin's pages)."""
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def company(db):
    return CompanyFactory(subscribed=True)


@pytest.fixture(scope="session")
def served_simulator():
    """The simulator on a real socket, for worker subprocesses; reset by `live_simulator`."""
    simulator = SiiSimulator(today=timezone.localdate())
    server, base_url = serve_in_thread(simulator)
    yield simulator, base_url
    server.shutdown()


@pytest.fixture
def live_simulator(served_simulator) -> SiiSimulator:
    simulator, _ = served_simulator
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, served_simulator):
    """One real worker for the session, on the test database, the Redis broker and the
    served simulator. Tests using it need `transactional_db` so the worker sees their rows."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("End-to-end tests need REDIS_URL (make test sets it); see README 'Tests'.")
    celery_app.connection_for_write().default_channel.client.flushdb()
    ARTIFACTS.mkdir(exist_ok=True)
    _, base_url = served_simulator
    # DEBUG and JSON, as in production but chattier: tests read these lines (no secrets, task ids).
    env = worker_env(
        database=settings.DATABASES["default"], simulator_url=base_url,
        extra={"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json"},
    )  # fmt: skip
    worker = WorkerProcess(env=env, log_path=ARTIFACTS / "worker.log")
    try:
        worker.wait_ready(celery_app)
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def unreachable_broker():
    """Point this process's Celery app at a closed port, so publishing really fails."""
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    forget_broker_connections()
    yield
    celery_app.conf.broker_url = original
    forget_broker_connections()


@pytest.fixture
def quiet_broker():
    """The test Redis, another database of it: what a test publishes stays queued for it to read
    (no worker consumes there). Yields a function giving a queue's waiting task ids."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("Publishing tests need REDIS_URL (make test sets it); see README 'Tests'.")
    with redis_broker_database(14) as redis:
        yield lambda queue: [json.loads(m)["headers"]["id"] for m in redis.lrange(queue, 0, -1)]


@contextmanager
def redis_broker_database(number: int) -> Iterator[Any]:
    """Within the block, this process publishes to database `number` of the test Redis (the one
    below if the suite's broker is that one), flushed before and after. Yields its client."""
    original = celery_app.conf.broker_url
    base, _, db = original.rpartition("/")
    celery_app.conf.broker_url = f"{base}/{number if db != str(number) else number - 1}"
    forget_broker_connections()
    redis = celery_app.connection_for_write().default_channel.client
    redis.flushdb()
    try:
        yield redis
    finally:
        redis.flushdb()
        celery_app.conf.broker_url = original
        forget_broker_connections()


def forget_broker_connections() -> None:
    # Celery caches its connection and producer pools (kombu keeps them per broker URL); drop
    # the app's references so the next publish looks them up for the current broker_url.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    publish_breaker_reset()  # the failure belongs to the broker we leave behind


@pytest.fixture
def metrics_on(settings):
    """/metrics on, answering tests.metrics.TOKEN (scrape() sends it)."""
    settings.METRICS_TOKEN = TOKEN


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Deployments run collectstatic for whitenoise's hashed names; tests render pages without it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def sii_governor_clear() -> None:
    """Every test starts with the SII governor's paces and breakers clear (a test's SII faults must
    not pause the next test's syncs); worker subprocesses share the same store."""
    if settings.SII_GOVERNOR_REDIS_URL:
        client = redis.Redis.from_url(settings.SII_GOVERNOR_REDIS_URL)
        keys = list(client.scan_iter("sii:governor:*"))
        if keys:
            client.delete(*keys)
        client.close()
    shutil.rmtree(settings.SII_GOVERNOR_DIR, ignore_errors=True)
