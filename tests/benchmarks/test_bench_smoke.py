"""The benchmark's smoke run: the real harness (gunicorn, a worker, Flower) in one short round.

Figures are not checked (speed is for `make bench`), only that every row has them and the chart
is drawn, so the benchmark cannot rot. It runs in its own throwaway database (dropped) and on
the test Redis server, in another database number than the suite's workers use.
"""

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from benchmarks import visible, web, worker_cpu
from benchmarks.database import bench_database_drop
from support.waits import scaled
from tests.processes import ROOT

pytestmark = pytest.mark.e2e
ROWS = [spec.row for spec in (*web.SPECS, *visible.SPECS, *worker_cpu.SPECS)]


def bench_redis_url() -> str:
    """REDIS_URL's server, another database number than the suite's: the benchmark flushes it,
    and the suite's session worker must not take the benchmark's tasks."""
    parts = urlsplit(os.environ["REDIS_URL"])
    number = 14 if parts.path.strip("/") == "15" else 15
    return urlunsplit(parts._replace(path=f"/{number}"))


def bench_database_name() -> str:
    return urlsplit(os.environ["DATABASE_URL"]).path.strip("/") + "_bench_smoke"


@pytest.fixture
def smoke_run(tmp_path):
    if not os.environ.get("REDIS_URL", "").startswith("redis://"):
        pytest.fail("The benchmark's smoke run needs REDIS_URL (make test sets it).")
    env = {**os.environ, "REDIS_URL": bench_redis_url(), "VAR_DIR": str(tmp_path)}
    env.pop("CELERY_BROKER_URL", None)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--smoke", "--database", bench_database_name()],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=scaled(240),
        )  # fmt: skip
    finally:
        bench_database_drop(name=bench_database_name())
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return tmp_path / "bench"


def test_the_smoke_run_reports_every_row_with_figures_and_draws_the_chart(smoke_run):
    results = json.loads((smoke_run / "results.json").read_text())
    rows = {row["row"]: row for row in results["rows"]}
    assert set(ROWS) <= set(rows)
    for row in rows.values():
        assert row["ours"], row
        assert all(isinstance(value, float | int) for value in row["ours"]), row
        assert all(isinstance(value, float | int) for value in row["reference"] or []), row
    assert results["growth"][0]["points"]
    assert results["machine"]["client"] in ("wrk", "python")
    assert (smoke_run / "results.png").stat().st_size > 0
