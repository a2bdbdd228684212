"""Optional Sentry: errors reach it from web and worker with passwords, keys and tokens scrubbed."""

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise

import httpx
import pytest
import sentry_sdk
from cryptography.fernet import Fernet
from django.conf import settings
from knox.models import AuthToken

from config.celery import app as celery_app
from config.sentry import sentry_init
from support.processes import ROOT, ManagedProcess, free_port
from support.waits import scaled, wait_for
from tests.config.sentry_boom import QUEUE, boom_task
from tests.factories import SIMULATOR_CLAVE, CompanyFactory, UserFactory
from tests.processes import manage_check, worker_env

OLD_KEY = Fernet.generate_key().decode()


class FakeSentry:
    """Sentry's ingest endpoint on a local port (the outer edge): keeps every envelope's bytes."""

    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        received = self.envelopes

        class Ingest(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(
                    gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
        self.dsn = f"http://public@127.0.0.1:{self.server.server_address[1]}/1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        """The error events received so far (transactions and other items left out)."""
        found = []
        for envelope in self.envelopes:
            lines = envelope.split(b"\n")
            found += [
                json.loads(after) for header, after in pairwise(lines[1:]) if _item_type(header) == "event"
            ]
        return found

    def event_with(self, text: str) -> dict:
        def arrived() -> dict | None:
            sentry_sdk.flush()
            return next((e for e in self.events() if text in json.dumps(e.get("exception", {}))), None)

        return wait_for(arrived, timeout=30, what=f"a Sentry event about {text!r}")

    def raw(self) -> bytes:
        return b"\n".join(self.envelopes)


def _item_type(line: bytes) -> str | None:
    try:
        header = json.loads(line)
    except ValueError:
        return None
    return header.get("type") if isinstance(header, dict) else None


@pytest.fixture
def fake_sentry():
    sentry = FakeSentry()
    yield sentry
    sentry.server.shutdown()


@pytest.fixture
def sentry_in_this_process(fake_sentry, settings):
    """The real SDK in the test process, sending to the fake; gone again after the test."""
    settings.SII_CREDENTIALS_OLD_KEYS = [OLD_KEY]
    secrets = [settings.SECRET_KEY, settings.SII_CREDENTIALS_KEY, OLD_KEY]
    sentry_init(
        dsn=fake_sentry.dsn, environment="test", release=None, traces_sample_rate=1.0, secrets=secrets
    )
    yield fake_sentry
    sentry_sdk.flush()
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def secrets_of(company, token: str) -> dict[str, str]:
    return {
        "API token": token,
        "SII clave": SIMULATOR_CLAVE,
        "encrypted clave": company.sii_password_encrypted,
        "SII_CREDENTIALS_KEY": settings.SII_CREDENTIALS_KEY,
        "SII_CREDENTIALS_OLD_KEYS": OLD_KEY,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
    }


def leaked(raw: bytes, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value.encode() in raw]


def frame_vars(event: dict, function: str) -> dict:
    (frame,) = [
        f for f in event["exception"]["values"][-1]["stacktrace"]["frames"] if f["function"] == function
    ]
    return frame["vars"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.config.sentry_boom")
def test_a_view_error_reaches_sentry_without_the_token_the_clave_or_the_keys(
    sentry_in_this_process, live_server
):
    company = CompanyFactory()
    _, token = AuthToken.objects.create(user=UserFactory())

    # A real WSGI server (the test client bypasses the WSGI layer Sentry reads requests from).
    response = httpx.get(
        f"{live_server.url}/boom/{company.pk}?api_key=querysecret123&page=2",
        headers={"Authorization": f"Token {token}", "Cookie": "sessionid=s3ss10nvalue0123456789; theme=dark"},
    )

    assert response.status_code == 500
    event = sentry_in_this_process.event_with("The view broke")
    raw = sentry_in_this_process.raw()
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert frame_vars(event, "boom_view")["clave"] == "[Filtered]"
    assert event["request"]["headers"]["Authorization"] == "[Filtered]"
    assert (
        leaked(raw, secrets_of(company, token) | {"cookie": "s3ss10nvalue", "query": "querysecret123"}) == []
    )
    assert b"page=2" in raw


@pytest.mark.django_db(transaction=True)
def test_a_task_error_in_a_real_worker_reaches_sentry_without_the_clave_or_the_token(tmp_path, fake_sentry):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("This test needs REDIS_URL (make test sets it); see README 'Tests'.")
    company = CompanyFactory()
    _, token = AuthToken.objects.create(user=UserFactory())
    env = worker_env(
        database=settings.DATABASES["default"], simulator_url="http://127.0.0.1:9",
        extra={"SENTRY_DSN": fake_sentry.dsn, "SENTRY_ENVIRONMENT": "test", "SII_CREDENTIALS_OLD_KEYS": OLD_KEY},
    )  # fmt: skip
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        boom_task.apply_async(args=[str(company.pk)], kwargs={"api_token": token}, queue=QUEUE)
        event = fake_sentry.event_with("The task broke")
    finally:
        worker.stop(signal.SIGKILL)

    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert frame_vars(event, "boom_task")["clave"] == "[Filtered]"
    # Without send_default_pii, Sentry itself leaves a task's arguments out.
    assert event["extra"]["celery-job"] == {
        "task_name": "tests.sentry_boom",
        "args": "[Filtered]",
        "kwargs": "[Filtered]",
    }
    assert leaked(fake_sentry.raw(), secrets_of(company, token)) == []


def start_worker(env: dict[str, str], log_path) -> ManagedProcess:
    """A worker (as the project runs it, plus the failing task) on the test's own queue, once it answers."""
    node = f"sentry-{os.getpid()}@{socket.gethostname()}"
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-I", "tests.config.sentry_boom",
        "-Q", QUEUE, "-c", "1", "-n", node, "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    worker = ManagedProcess(command, log_path, name="the worker", env=env).start()
    worker.wait_until(
        lambda: celery_app.control.ping(destination=[node], timeout=0.5), timeout=60, what="the worker"
    )
    return worker


def sentry_initialised(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Whether start-up (settings) initialised the SDK, in a subprocess with `env`."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "DATABASE_URL", "REDIS_URL"))
    }
    code = "import sentry_sdk; print('initialised' if sentry_sdk.is_initialized() else 'off')"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT, env={**clean, "VAR_DIR": str(tmp_path), **env}, capture_output=True, text=True,
        timeout=scaled(60),
    )  # fmt: skip


def test_without_a_dsn_sentry_stays_off(tmp_path):
    done = sentry_initialised(tmp_path, SENTRY_DSN="")

    assert done.stdout.strip() == "off", done.stderr


def test_with_a_dsn_start_up_initialises_sentry(tmp_path):
    done = sentry_initialised(tmp_path, SENTRY_DSN=f"http://public@127.0.0.1:{free_port()}/1")

    assert done.stdout.strip() == "initialised", done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SENTRY_TRACES_SAMPLE_RATE", "2", "SENTRY_TRACES_SAMPLE_RATE=2.0 must be at most 1"),
        ("SENTRY_TRACES_SAMPLE_RATE", "-0.5", "SENTRY_TRACES_SAMPLE_RATE=-0.5 must be at least 0"),
        ("SENTRY_TRACES_SAMPLE_RATE", "all", "SENTRY_TRACES_SAMPLE_RATE='all' is not a number"),
        ("SENTRY_DSN", "not-a-dsn", "SENTRY_DSN is not a valid Sentry DSN"),
    ],
)
def test_a_bad_sentry_setting_stops_start_up(tmp_path, variable, value, message):
    done = manage_check(tmp_path, **{variable: value})

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert message in done.stderr
