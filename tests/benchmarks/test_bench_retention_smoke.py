"""The retention benchmark's smoke run (20,000 runs): it prints its table and writes its figures.

Figures are not checked (speed is for `make bench-retention`), only that the run completes, so the
benchmark cannot rot. Its database is its own, named after the suite's, and dropped.
"""

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from benchmarks.database import bench_database_drop
from support.waits import scaled
from tests.processes import ROOT

pytestmark = pytest.mark.e2e


def test_the_smoke_run_prints_its_table_and_writes_its_figures(tmp_path):
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if not url.scheme.startswith("postgres"):
        pytest.fail("The retention benchmark needs DATABASE_URL on PostgreSQL (make test sets it).")
    database = url.path.strip("/") + "_bench_retention_smoke"  # not the full run's own name
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.retention", "--smoke", "--database", database],
            cwd=ROOT, env={**os.environ, "VAR_DIR": str(tmp_path)}, capture_output=True, text=True,
            timeout=scaled(240),
        )  # fmt: skip
    finally:
        bench_database_drop(name=database)

    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    assert "| figure | value |" in done.stdout
    assert "runs deleted with their attempts and results" in done.stdout
    figures = json.loads((tmp_path / "bench" / "retention.json").read_text())
    runs = [figures[phase]["tasks_api_tasklaunch"]["rows"] for phase in ("before", "after")]
    assert runs[1] < runs[0]
