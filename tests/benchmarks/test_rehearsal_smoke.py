"""The rehearsal's smoke run: a night of 40 companies with an SII outage, through the real harness
(the simulator and a worker as processes, Redis, PostgreSQL), so `make rehearse` cannot rot.
Figures of speed are not checked; what every night must hold is."""

import json
import os
import subprocess
import sys

import pytest

from benchmarks.database import bench_database_drop
from benchmarks.rehearsal.report import _ROWS
from support.waits import scaled
from tests.benchmarks.test_bench_smoke import bench_database_name, bench_redis_url
from tests.processes import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture
def rehearsal(tmp_path):
    env = {**os.environ, "REDIS_URL": bench_redis_url(), "VAR_DIR": str(tmp_path)}
    env.pop("CELERY_BROKER_URL", None)
    database = bench_database_name() + "_rehearsal"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.rehearsal", "--smoke", "--database", database],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=scaled(300),
        )  # fmt: skip
    finally:
        bench_database_drop(name=database)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done.stdout, tmp_path / "rehearsal"


def test_a_smoke_night_syncs_every_company_once_logged_in_and_reports_every_row(rehearsal):
    printed, folder = rehearsal
    night = json.loads((folder / "results.json").read_text())["redis"]

    assert night["children"] == {"SUCCESS": 40}
    assert night["logins"] == {"companies": 40, "most_of_a_company": 1, "companies_with_more_than_one": 0}
    assert night["most_requests_of_a_company_at_once"] == 1
    assert night["outage"]["requests_while_down"] > 0
    assert set(night["ondemand"]["statuses"]) == {"SUCCESS"}
    assert all(label in printed for label, _ in _ROWS)
    assert (folder / "results.png").stat().st_size > 0
