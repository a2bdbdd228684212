"""docker-compose.yml's commands, run as they are outside Docker against PostgreSQL and Redis.

No Docker engine is needed: each service's command runs as a subprocess with the compose
environment, its compose host names swapped for this test run's database, broker and simulator.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from support.processes import ROOT, free_port
from support.waits import scaled
from tasks_api.models import TaskLaunch
from tests.deploy.compose import service
from tests.deploy.conftest import STATE_VOLUME, wait_while_running
from tests.factories import CompanyFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FINISHED = ("SUCCESS", "FAILURE", "REVOKED")


def start_web(start_service):
    """The web service's command (migrate, then gunicorn) on a free local port."""
    port = free_port()
    return start_service("web", replace={"0.0.0.0:8000": f"127.0.0.1:{port}"}, port=port)


def wait_until_healthy(web, compose_env, others=()) -> None:
    """Until the compose health check of web (its own command, on the local port) passes."""
    check = [part.replace(":8000/", f":{web.port}/") for part in service("web")["healthcheck"]["test"][1:]]

    def healthy() -> bool:
        return subprocess.run(check, env=compose_env, capture_output=True, timeout=scaled(10)).returncode == 0

    wait_while_running(healthy, [web, *others], timeout=30, what="the web health check to pass")


def test_the_web_command_serves_the_admin_with_its_static_files_through_whitenoise(
    start_service, compose_env
):
    # The image collects static files at build time, into the same STATIC_ROOT the web reads.
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=compose_env, capture_output=True, text=True, timeout=scaled(60),
    )  # fmt: skip
    assert collect.returncode == 0, collect.stderr
    web = start_web(start_service)
    wait_until_healthy(web, compose_env)

    login = httpx.get(f"{web.base_url}/admin/login/")
    stylesheet = httpx.get(f"{web.base_url}/static/unfold/css/styles.css")
    hashed = httpx.get(f"{web.base_url}{_hashed_stylesheet(login.text)}")

    assert login.status_code == 200
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    # whitenoise caches the hashed names forever; DEBUG is off, so Django itself serves no static file.
    assert hashed.status_code == 200
    assert "immutable" in hashed.headers["cache-control"]
    assert web.stop() == 0, web.log_tail()
    # gunicorn.conf.py: with LOG_FORMAT=json, gunicorn's own and access lines are JSON too.
    access = [json.loads(line) for line in web.log_path.read_text().splitlines() if "/admin/login/" in line]
    assert access
    assert all(entry["logger"] == "gunicorn.access" for entry in access)


def _hashed_stylesheet(page: str) -> str:
    start = page.index("/static/unfold/css/styles.")
    return page[start : page.index('"', start)]


def test_a_task_launched_through_the_web_command_succeeds_on_the_worker_command(
    start_service, compose_env, api_token, live_simulator, tmp_path
):
    company = CompanyFactory(subscribed=True)
    state_dir = tmp_path / "celery-state"
    state_dir.mkdir()
    worker = start_service("worker", replace={STATE_VOLUME: str(state_dir)})
    web = start_web(start_service)
    wait_until_healthy(web, compose_env, [worker])
    headers = {"Authorization": f"Token {api_token}"}

    with httpx.Client(base_url=f"{web.base_url}/api/celery", headers=headers) as api:
        params = {"company_id": str(company.pk)}
        launched = api.post("/tasks/launch", json={"task_type": "sii.sync_documents", "params": params})
        assert launched.status_code == 202, launched.text
        task_id = launched.json()["task_id"]
        body = wait_while_running(
            lambda: (reply := api.get(f"/tasks/{task_id}").json())["status"] in FINISHED and reply,
            [web, worker], timeout=30, what=f"task {task_id} to finish",
        )  # fmt: skip

    assert body["status"] == "SUCCESS", body
    assert body["result"]["success"] is True
    # The worker's health check pings its own node (celery@ + the host name), not any worker.
    assert run_health_check("worker", compose_env, {"HOSTNAME": socket.gethostname()}) == 0
    assert run_health_check("worker", compose_env, {"HOSTNAME": "another-container"}, timeout="1") != 0
    assert (worker.stop(), web.stop()) == (0, 0), worker.log_tail() + web.log_tail()
    # The revoke state is where the compose volume is mounted, one file per worker host name.
    host = socket.gethostname().partition(".")[0]
    assert list(state_dir.glob(f"{host}.state*")), sorted(state_dir.iterdir())


def run_health_check(name: str, compose_env: dict, env: dict, *, timeout: str | None = None) -> int:
    """The service's compose health check here, its image paths swapped for this run's VAR_DIR."""
    kind, *test = service(name)["healthcheck"]["test"]
    test = [part.replace("$$", "$").replace("/app/var", compose_env["VAR_DIR"]) for part in test]
    if timeout:
        test = [part.replace("--timeout 10", f"--timeout {timeout}") for part in test]
    argv = ["sh", "-c", *test] if kind == "CMD-SHELL" else test
    return subprocess.run(
        argv, env={**compose_env, **env}, capture_output=True, timeout=scaled(60)
    ).returncode


def test_the_beat_command_publishes_a_database_schedule_recorded_as_launched_by_beat(
    start_service, compose_env
):
    last_year = str(timezone.localdate().year - 1)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    schedule = PeriodicTask.objects.create(
        name="deploy test: F29 for everyone",
        task="sii.sync_f29_all_companies",
        interval=every_second,
        kwargs=json.dumps({"year": last_year}),
    )
    beat = start_service("beat")

    launch = wait_while_running(
        lambda: TaskLaunch.objects.filter(launched_by="beat", periodic_task_name=schedule.name).first(),
        [beat], timeout=60, what="beat to publish the schedule",
    )  # fmt: skip

    assert launch.task_type == "sii.sync_f29_all_companies"
    assert launch.params == {"year": last_year}
    # Its ticks keep the heartbeat file fresh: the compose health check passes.
    assert run_health_check("beat", compose_env, {}) == 0
    assert beat.stop() == 0, beat.log_tail()
    os.utime(Path(compose_env["VAR_DIR"]) / "beat.heartbeat", (0, 0))  # as if beat had hung long ago
    assert run_health_check("beat", compose_env, {}) != 0
