"""The web server model waiting requests need: gunicorn gthread workers, the same for `make run`
and compose, where a request waiting for a run holds an idle thread, not a process."""

import runpy
import subprocess
import sys
import threading

import httpx
import pytest
from django.conf import settings
from django.db import connection
from knox.models import AuthToken

from config.celery import app as celery_app
from tasks_api.services import notifications
from tests.deploy.compose import service
from tests.factories import TaskLaunchFactory, UserFactory
from tests.processes import ROOT, free_port, wait_for, worker_env


def gunicorn_conf(monkeypatch, threads: str | None) -> dict:
    if threads is None:
        monkeypatch.delenv("WEB_THREADS", raising=False)
    else:
        monkeypatch.setenv("WEB_THREADS", threads)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def web_commands() -> dict[str, str]:
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    command = service("web")["command"]
    return {"Procfile": procfile["web"], "compose": command if isinstance(command, str) else command[-1]}


def test_gunicorn_runs_threaded_workers_with_web_threads_threads(monkeypatch):
    default = gunicorn_conf(monkeypatch, None)

    assert (default["worker_class"], default["threads"]) == ("gthread", 8)
    assert gunicorn_conf(monkeypatch, "32")["threads"] == 32


@pytest.mark.parametrize("threads", ["0", "many", "-2"])
def test_a_bad_web_threads_stops_gunicorn_naming_it(monkeypatch, threads):
    with pytest.raises(SystemExit, match=f"WEB_THREADS={threads!r}"):
        gunicorn_conf(monkeypatch, threads)


def test_make_run_and_compose_start_gunicorn_alike_leaving_the_worker_model_to_its_config_file():
    for name, command in web_commands().items():
        assert "gunicorn config.wsgi" in command, name
        assert "--workers ${WEB_CONCURRENCY:-2}" in command, name
        assert not {"--worker-class", "--threads", "-k"} & set(command.split()), name


@pytest.mark.e2e
@pytest.mark.timeout(90)
@pytest.mark.django_db(transaction=True)
def test_one_gunicorn_process_serves_other_requests_while_one_waits_and_wakes_it_when_the_run_ends(tmp_path):
    _, token = AuthToken.objects.create(user=UserFactory(is_superuser=True), expiry=None)
    run = TaskLaunchFactory()
    port = free_port()
    env = worker_env(database=settings.DATABASES["default"], simulator_url="http://127.0.0.1:1")
    log = (tmp_path / "gunicorn.log").open("w")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
    ]
    web = subprocess.Popen(
        command, cwd=ROOT, env={**env, "WEB_THREADS": "2"}, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    answers: list[httpx.Response] = []
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), timeout=30, what="gunicorn")
        headers = {"Authorization": f"Token {token}"}
        url = f"{base}/api/celery/tasks/{run.task_id}?wait=30"
        waiting = threading.Thread(target=lambda: answers.append(httpx.get(url, headers=headers, timeout=40)))
        waiting.start()
        wait_for(lambda: _subscribed(run.task_id), timeout=10, interval=0.05, what="the request to wait")

        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200  # the other thread serves
        assert not answers  # while the first request still waits
        celery_app.backend.store_result(run.task_id, {"success": True}, "SUCCESS")
        connection.close()
        waiting.join(timeout=20)
    finally:
        web.terminate()
        web.wait(timeout=20)
        log.close()

    assert answers[0].status_code == 200
    assert answers[0].json()["status"] == "SUCCESS"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _subscribed(task_id: str) -> bool:
    """Whether a request waits for the run: Redis counts its channel's subscribers."""
    client = celery_app.connection_for_write().default_channel.client
    return client.pubsub_numsub(notifications.finished_channel(task_id))[0][1] > 0
