"""Fixtures for running docker-compose.yml's commands as plain processes, outside Docker."""

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.conf import settings
from knox.models import AuthToken

from support.processes import ManagedProcess
from support.waits import wait_for
from tests.deploy.compose import interpolate, service
from tests.factories import UserFactory
from tests.processes import worker_env

# A Redis database of its own, so these processes never meet the session worker (on /15).
DEPLOY_REDIS_DB = 12
# Where the compose file's worker keeps its revoke state; the tests use a temporary directory.
STATE_VOLUME = "/var/lib/celery"
# Compose variables that name compose hosts or require .env secrets: this test run's stand in.
STAND_INS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "SII_SIMULATOR_URL",
    "DJANGO_SECRET_KEY",
    "SII_CREDENTIALS_KEY",
)
# A .env for trying the stack locally: .env.example's hosts, and the choices it leaves empty.
DOT_ENV = {
    "SII_MODE": "simulator",
    "SITE_ADDRESS": "localhost",
    "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
}


class ServiceProcess(ManagedProcess):
    """One compose service's command in a subprocess, started at once, its output in a log file.

    stop() sends SIGTERM, as docker compose stop does: the exit code, or None if it had to be killed.
    """

    def __init__(
        self, name: str, argv: list[str], *, env: dict[str, str], log_path: Path, port: int | None = None
    ) -> None:
        super().__init__(argv, log_path, name=name, env=env, stop_timeout=20)
        self.port, self.base_url = port, f"http://127.0.0.1:{port}" if port else None
        self.start()


@pytest.fixture
def deploy_broker_url():
    """The test Redis with its database number replaced by DEPLOY_REDIS_DB, emptied around the test."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("The deploy end-to-end tests need REDIS_URL (make test sets it); see README 'Tests'.")
    url = re.sub(r"(/\d+)?$", f"/{DEPLOY_REDIS_DB}", settings.CELERY_BROKER_URL.rstrip("/"), count=1)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def compose_env(tmp_path, served_simulator, deploy_broker_url) -> dict[str, str]:
    """The app services' compose environment, with the compose hosts and secrets replaced by this
    test run's database, broker, simulator and keys; the virtualenv first on PATH."""
    _, simulator_url = served_simulator
    local = worker_env(
        database=settings.DATABASES["default"],
        simulator_url=simulator_url,
        extra={
            "CELERY_BROKER_URL": deploy_broker_url,
            "REDIS_URL": deploy_broker_url,
            "VAR_DIR": str(tmp_path / "var"),
            "STATIC_ROOT": str(tmp_path / "static"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
    )
    compose_environment = service("web")["environment"]
    kept = {
        key: interpolate(value, DOT_ENV) for key, value in compose_environment.items() if key not in STAND_INS
    }
    return {**local, **kept}


@pytest.fixture
def start_service(compose_env, tmp_path):
    """start_service("worker", replace={...}) runs that service's compose command here.

    ${...} in the command takes the compose defaults; `replace` swaps container-only strings (a
    bind address, a volume path) for local ones. Whatever a test leaves running is killed after it.
    """
    started: list[ServiceProcess] = []

    def start(name: str, *, replace: dict[str, str] | None = None, port: int | None = None) -> ServiceProcess:
        argv = [interpolate(part, {}) for part in service(name)["command"]]
        for old, new in (replace or {}).items():
            argv = [part.replace(old, new) for part in argv]
        process = ServiceProcess(name, argv, env=compose_env, log_path=tmp_path / f"{name}.log", port=port)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop(timeout=5)


@pytest.fixture
def api_token(db) -> str:
    _, key = AuthToken.objects.create(user=UserFactory(is_superuser=True), expiry=None)
    return key


def wait_while_running(
    predicate: Callable, processes: list[ServiceProcess], *, timeout: float, what: str
) -> object:
    """wait_for(predicate), failing at once with its log when a process exits, and with every
    process's log on a timeout."""

    def check():
        for process in processes:
            process.check_alive()
        return predicate()

    try:
        return wait_for(check, timeout=timeout, interval=0.2, what=what)
    except AssertionError as error:
        logs = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in processes)
        raise AssertionError(f"{error}\n{logs}") from None
