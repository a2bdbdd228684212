"""The production shape the benchmark measures: gunicorn, one Celery worker and Flower, as processes.

Commands are docker-compose.yml's (gunicorn reads gunicorn.conf.py from the repo root: gthread,
WEB_THREADS threads), every process with DJANGO_SETTINGS_MODULE=benchmarks.settings. Each child
gets its own process group, killed as a whole on stop, and dies with the benchmark (SIGKILL from
the kernel) if the benchmark itself is killed.
"""

import os
import secrets
import sys
from pathlib import Path

import httpx
import psutil

from support.processes import ManagedProcess, free_port

FLOWER_USER = "bench"
# The throttle still runs on every launch (its cost counts); it just never refuses one.
LAUNCH_RATE = "1000000/s"
WORKER_CONCURRENCY = 4


def stack_env(*, database_url: str, redis_url: str, secret_key: str, credentials_key: str) -> dict[str, str]:
    """The environment every process of the stack shares."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "DJANGO_SECRET_KEY": secret_key,
        "SII_CREDENTIALS_KEY": credentials_key,
        "API_LAUNCH_RATE": LAUNCH_RATE,
    }


class Service(ManagedProcess):
    """One process group of the stack, logging to `logs/<name>.log` (appended to at each start)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        super().__init__(command, logs / f"{name}.log", name=name, env=env, log_mode="a", own_group=True)

    def cpu_seconds(self) -> float:
        """User + system CPU of the process and all its descendants (gunicorn's or the pool's)."""
        root = psutil.Process(self.pid)
        total = 0.0
        for process in (root, *root.children(recursive=True)):
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total


class Stack:
    """gunicorn + worker for the whole run; Flower started and stopped around its own phases."""

    def __init__(self, *, env: dict[str, str], logs: Path) -> None:
        self.logs = logs
        self.web_port, self.flower_port = free_port(), free_port()
        self.flower_password = secrets.token_urlsafe(16)
        self.web = Service("gunicorn", _web_command(self.web_port, self.logs / "access.log"), env, self.logs)
        self.worker = Service("worker", _worker_command(self.logs / "worker.state"), env, self.logs)
        flower = _flower_command(self.flower_port, f"{FLOWER_USER}:{self.flower_password}")
        self.flower = Service("flower", flower, env, self.logs)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def flower_url(self) -> str:
        return f"http://127.0.0.1:{self.flower_port}"

    @property
    def flower_auth(self) -> tuple[str, str]:
        return FLOWER_USER, self.flower_password

    def start(self, app) -> None:
        self.web.start()
        self.worker.start()
        self.web.wait_until(lambda: _answers(f"{self.web_url}/healthz"), timeout=60, what="gunicorn")
        self.worker.wait_until(lambda: app.control.ping(timeout=0.5), timeout=60, what="the worker")

    def flower_start(self) -> None:
        self.flower.start()
        url = f"{self.flower_url}/api/workers"
        self.flower.wait_until(lambda: _answers(url, auth=self.flower_auth), timeout=60, what="Flower")

    def flower_stop(self, app) -> None:
        """Stop Flower and switch the worker's events off again (Flower switched them on)."""
        self.flower.stop()
        app.control.disable_events()

    def stop(self) -> None:
        for service in (self.flower, self.web, self.worker):
            service.stop()


def _web_command(port: int, access_log: Path) -> list[str]:
    """docker-compose.yml's web command, on a local port, its access log in a file."""
    return [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--access-logfile", str(access_log),
    ]  # fmt: skip


def _worker_command(statedb: Path) -> list[str]:
    """docker-compose.yml's worker command."""
    return [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
        "--concurrency", str(WORKER_CONCURRENCY), "-l", "info", "--statedb", str(statedb),
    ]  # fmt: skip


def _flower_command(port: int, basic_auth: str) -> list[str]:
    """Flower on the same app, Redis and worker; basic auth, since the API authenticates too."""
    return [
        sys.executable, "-m", "celery", "-A", "config", "flower", "--address=127.0.0.1",
        f"--port={port}", f"--basic-auth={basic_auth}",
    ]  # fmt: skip


def _answers(url: str, auth: tuple[str, str] | None = None) -> bool:
    try:
        return httpx.get(url, auth=auth, timeout=2).status_code == 200
    except httpx.TransportError:
        return False
