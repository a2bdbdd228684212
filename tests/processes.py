"""The project's processes for end-to-end tests (a Celery worker, the web server) and their environment."""

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from support.processes import ROOT, ManagedProcess, die_with_parent, free_port
from support.waits import scaled, wait_for

# Many tests import these from here; support/ is where they live.
__all__ = [
    "ROOT", "ManagedProcess", "WebServer", "WorkerProcess", "database_url", "die_with_parent",
    "free_port", "manage_check", "queue_paused", "scaled", "wait_for", "worker_env",
]  # fmt: skip


def database_url(database: dict) -> str:
    """A DATABASE_URL for the database Django is using now (the test database in tests)."""
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    user, host, port = (
        database["USER"] or "postgres",
        database["HOST"] or "127.0.0.1",
        database["PORT"] or 5432,
    )
    return f"postgres://{user}@{host}:{port}/{database['NAME']}"


def manage_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`manage.py check` in a subprocess with `env` on top of a clean environment: start-up
    reads the settings, so a bad value fails here as it would in a deployment."""
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env={**clean, "VAR_DIR": str(tmp_path), **env}, capture_output=True, text=True,
        timeout=scaled(60),
    )  # fmt: skip


class WorkerProcess(ManagedProcess):
    """`celery -A config worker` in a subprocess, started at once; `env` is its whole environment.

    It is SIGKILLed if the test process dies (its pool children then die too: Celery's prefork
    pool sets the same parent-death signal on them), unless `die_with_test_run=False`. stop()
    is a warm shutdown (SIGTERM), SIGKILL after 20 s (scaled).
    """

    def __init__(
        self,
        *,
        env: dict[str, str],
        log_path: Path,
        concurrency: int = 2,
        die_with_test_run: bool = True,
        node: str = "",
    ) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "-c", str(concurrency), "-l", env.get("LOG_LEVEL", "INFO"), "-n", node or f"test-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        super().__init__(
            command,
            log_path,
            name="the worker",
            env=env,
            stop_timeout=20,
            parent_death_signal=signal.SIGKILL if die_with_test_run else None,
        )
        self.start()

    def wait_ready(self, app, timeout: float = 60) -> None:
        """Until the worker answers `app`'s ping."""
        self.wait_until(
            lambda: app.control.ping(timeout=0.5), timeout=timeout, what="the Celery worker to answer a ping"
        )

    def log_tail(self, lines: int = 60) -> str:
        return super().log_tail(lines)


@contextmanager
def queue_paused(app, queue: str) -> Iterator[None]:
    """No worker of `app`'s broker takes from `queue` within the block. After it they consume
    every declared queue again in the settings' order: add_consumer appends the queue last, and
    on Redis that order is the order work is taken in."""
    names = [declared.name for declared in settings.CELERY_TASK_QUEUES]
    workers = len(app.control.cancel_consumer(queue, reply=True, timeout=2))
    # A worker answers a command, then acts on it: the change is waited for in what it consumes.
    _wait_consuming(app, lambda consumed: queue not in consumed, what=f"the workers to leave {queue}")
    try:
        yield
    finally:
        # One at a time, each answered before the next is sent, so each worker acts in this order.
        for name in names[names.index(queue) + 1 :]:
            app.control.cancel_consumer(name, reply=True, timeout=2, limit=workers)
        for name in names[names.index(queue) :]:
            app.control.add_consumer(name, reply=True, timeout=2, limit=workers)
        _wait_consuming(app, lambda consumed: consumed == names, what=f"the workers to consume {names}")


def _wait_consuming(app, holds: Callable[[list[str]], bool], *, what: str) -> None:
    def every_worker() -> bool:
        replies = app.control.inspect(timeout=1).active_queues() or {}
        return bool(replies) and all(holds([q["name"] for q in queues]) for queues in replies.values())

    wait_for(every_worker, timeout=10, what=what)


def worker_env(*, database: dict, simulator_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a worker needs to share this test run's database, broker and keys."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "SII_SIMULATOR_URL": simulator_url,
        "SII_CREDENTIALS_KEY": settings.SII_CREDENTIALS_KEY,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "SII_RETRY_BACKOFF": "1",
        # Tests make the SII fail on purpose, run after run: each must meet its failure, not the
        # governor's pause (tests/e2e/test_sii_governor.py starts workers with a breaker of their own).
        "SII_BREAKER_THRESHOLD": "1000",
        **(extra or {}),
    }


class WebServer(ManagedProcess):
    """The web app in a subprocess with its own env, started at once: `runserver` (no autoreload)
    or gunicorn; ready when it serves the API schema."""

    def __init__(
        self, *, env: dict[str, str], port: int, log_path: Path, gunicorn: bool = False, workers: int = 2
    ) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        if gunicorn:
            command = [
                sys.executable, "-m", "gunicorn", "config.wsgi",
                "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            ]  # fmt: skip
        super().__init__(command, log_path, name="the web server", env=env, ready=self._serves_the_schema)
        self.start()

    def _serves_the_schema(self) -> bool:
        import httpx

        try:
            return httpx.get(self.base_url + "/api/schema/", timeout=1).status_code == 200
        except httpx.TransportError:
            return False
