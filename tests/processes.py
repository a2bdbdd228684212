"""Real processes for end-to-end tests: a Celery worker subprocess, and polling helpers."""

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Resolved at import: a preexec_fn runs between fork and exec, where loading a library could
# deadlock on a lock another thread (the served simulator's) held at fork time.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A Popen `preexec_fn` that makes the child get `sig` when this process dies (Linux only).

    A killed test run then leaves no orphan holding a database or a port. The kernel clears the
    setting when the child changes its user, so pass Popen's `user=` (applied before this runs),
    not `runuser`. It fires when the *thread* that started the child exits: start children from
    the main thread. Returns None (no preexec_fn) where prctl does not exist.
    """
    if _prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def wait_for(predicate: Callable[[], T], *, timeout: float, interval: float = 0.1, what: str = "") -> T:
    """Poll until `predicate` returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


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
        cwd=ROOT, env={**clean, "VAR_DIR": str(tmp_path), **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


class WorkerProcess:
    """`celery -A config worker` in a subprocess; `env` is its whole environment.

    It is SIGKILLed if the test process dies (its pool children then die too: Celery's prefork
    pool sets the same parent-death signal on them), unless `die_with_test_run=False`.
    """

    def __init__(
        self, *, env: dict[str, str], log_path: Path, concurrency: int = 2, die_with_test_run: bool = True
    ) -> None:
        self.log_path = log_path
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "-c", str(concurrency), "-l", env.get("LOG_LEVEL", "INFO"), "-n", f"test-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent() if die_with_test_run else None,
        )  # fmt: skip

    def wait_ready(self, app, timeout: float = 60) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"The worker exited early:\n{self.log_tail()}")
            return bool(app.control.ping(timeout=0.5))

        wait_for(answers, timeout=timeout, interval=0.2, what="the Celery worker to answer a ping")

    def log_tail(self, lines: int = 60) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 20) -> None:
        """Warm shutdown (SIGTERM); SIGKILL if it has not exited after `timeout` s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


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
        **(extra or {}),
    }


class WebServer:
    """The web app in a subprocess with its own env: `runserver` (no autoreload) or gunicorn."""

    def __init__(
        self, *, env: dict[str, str], port: int, log_path: Path, gunicorn: bool = False, workers: int = 2
    ) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self._log = log_path.open("w")
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        if gunicorn:
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
            ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30) -> None:
        import httpx

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError("The web server exited early")
            try:
                return httpx.get(self.base_url + "/api/schema/", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, timeout=timeout, interval=0.2, what="the web server")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._log.close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
