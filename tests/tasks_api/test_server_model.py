"""The web server model waiting requests need: gunicorn gthread workers, the same for `make run`
and compose, where a request waiting for a run holds an idle thread, not a process."""

import runpy
import threading

import httpx
import pytest
from django.conf import settings
from django.db import connection
from gunicorn.util import load_class
from gunicorn.workers.gthread import ThreadWorker
from knox.models import AuthToken

from config.celery import app as celery_app
from tasks_api.runs import notifications
from tests.deploy.compose import service
from tests.factories import TaskLaunchFactory, UserFactory
from tests.processes import ROOT, WebServer, free_port, wait_for, worker_env


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

    # gthread's own worker, answering unparseable requests in JSON (tests/config/test_gunicorn_worker.py).
    assert issubclass(load_class(default["worker_class"]), ThreadWorker)
    assert default["threads"] == 8
    assert gunicorn_conf(monkeypatch, "32")["threads"] == 32


@pytest.mark.parametrize("threads", ["0", "many", "-2"])
def test_a_bad_web_threads_stops_gunicorn_naming_it(monkeypatch, threads):
    with pytest.raises(SystemExit, match=f"WEB_THREADS={threads!r}"):
        gunicorn_conf(monkeypatch, threads)


def test_gunicorn_keeps_its_control_socket_under_var_not_the_users_home(monkeypatch, tmp_path):
    monkeypatch.delenv("VAR_DIR", raising=False)
    assert gunicorn_conf(monkeypatch, None)["control_socket"] == str(ROOT / "var" / "gunicorn.ctl")

    monkeypatch.setenv("VAR_DIR", str(tmp_path))

    assert gunicorn_conf(monkeypatch, None)["control_socket"] == str(tmp_path / "gunicorn.ctl")


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
    env = worker_env(database=settings.DATABASES["default"], simulator_url="http://127.0.0.1:1")
    # One process with two threads: the waiting request must leave the other thread free.
    web = WebServer(
        env={**env, "WEB_THREADS": "2"}, port=free_port(), log_path=tmp_path / "gunicorn.log",
        gunicorn=True, workers=1,
    )  # fmt: skip
    answers: list[httpx.Response] = []
    try:
        web.wait_ready()
        headers = {"Authorization": f"Token {token}"}
        url = f"{web.base_url}/api/celery/tasks/{run.task_id}?wait=30"
        waiting = threading.Thread(target=lambda: answers.append(httpx.get(url, headers=headers, timeout=40)))
        waiting.start()
        wait_for(lambda: _subscribed(run.task_id), timeout=10, interval=0.05, what="the request to wait")

        assert httpx.get(f"{web.base_url}/healthz", timeout=5).status_code == 200  # the other thread serves
        assert not answers  # while the first request still waits
        celery_app.backend.store_result(run.task_id, {"success": True}, "SUCCESS")
        connection.close()
        waiting.join(timeout=20)
    finally:
        web.stop()

    assert answers[0].status_code == 200
    assert answers[0].json()["status"] == "SUCCESS"


def _subscribed(task_id: str) -> bool:
    """Whether a request waits for the run: Redis counts its channel's subscribers."""
    client = celery_app.connection_for_write().default_channel.client
    return client.pubsub_numsub(notifications.finished_channel(task_id))[0][1] > 0
