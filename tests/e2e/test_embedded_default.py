"""The embedded default end to end: SQLite and kombu's file-system broker, no servers."""

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from support.waits import scaled
from tests.processes import ROOT, WorkerProcess, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def embedded_env(tmp_path, served_simulator):
    """The environment of a fresh checkout: nothing set but where var/ lives."""
    _, simulator_url = served_simulator
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        {"VAR_DIR": str(tmp_path / "var"), "SII_SIMULATOR_URL": simulator_url, "SII_RETRY_BACKOFF": "1"}
    )
    return env


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=scaled(120),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def query(database, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, params).fetchall()


def test_a_worker_on_sqlite_and_the_file_system_broker_syncs_a_company(embedded_env, tmp_path):
    manage(embedded_env, "migrate", "--verbosity", "0")
    company_id = manage(
        embedded_env, "shell", "--no-imports", "-c",
        "from sii.services.companies import company_create; "
        "print(company_create(name='Demo SpA', rut='76.086.428-5', sii_password='demo').pk)",
    )  # fmt: skip
    worker = WorkerProcess(env=embedded_env, log_path=tmp_path / "worker.log", concurrency=1)
    try:
        wait_for(lambda: " ready." in worker.log_tail(), timeout=60, what="the worker to be ready")
        task_id = manage(
            embedded_env, "shell", "--no-imports", "-c",
            "from tasks_api.services.launches import task_launch; "
            f"print(task_launch(task_type='sii.sync_documents', params={{'company_id': '{company_id}'}}, "
            "launched_by='system').task_id)",
        )  # fmt: skip
        database = tmp_path / "var" / "db.sqlite3"
        status_sql = "SELECT status, result FROM django_celery_results_taskresult WHERE task_id = ?"
        _status, result = wait_for(
            lambda: next(iter(r for r in query(database, status_sql, task_id) if r[0] == "SUCCESS"), None),
            timeout=60, what=f"task {task_id} to succeed\n{worker.log_tail()}",
        )  # fmt: skip
    finally:
        worker.stop()
    synced = query(database, "SELECT count(*) FROM sii_purchasedocument")[0][0]
    assert json.loads(result)["compras"]["total"] == synced > 0
