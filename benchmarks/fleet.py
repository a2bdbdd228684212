"""An all-companies sync over a fleet of simulated companies, with a real worker."""

import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from sii import crypto, rut
from sii.models import Company, PurchaseDocument, SaleDocument, Subscription
from sii.simulator.app import SiiSimulator
from sii.simulator.server import serve_in_thread
from tasks_api.selectors.launches import task_children_counts
from tasks_api.services.launches import task_launch
from tests.processes import WorkerProcess, wait_for, worker_env


def run_fleet(size: int, *, concurrency: int = 4) -> dict[str, str]:
    _create_companies(size)
    simulator = SiiSimulator()
    server, base_url = serve_in_thread(simulator)
    celery_app.connection_for_write().default_channel.client.flushdb()
    log = Path(tempfile.mkdtemp()) / "worker.log"
    env = worker_env(database=settings.DATABASES["default"], simulator_url=base_url)
    worker = WorkerProcess(env=env, log_path=log, concurrency=concurrency)
    try:
        worker.wait_ready(celery_app)
        return _measure(size, concurrency)
    finally:
        worker.stop()
        server.shutdown()


def _create_companies(size: int) -> None:
    password = crypto.encrypt("clave-bench")
    companies = [
        Company(name=f"Flota {n} SpA", rut_body=77_000_000 + n, rut_dv=rut.check_digit(77_000_000 + n),
                sii_password_encrypted=password)
        for n in range(size)
    ]  # fmt: skip
    Company.objects.bulk_create(companies, batch_size=1000)
    Subscription.objects.bulk_create([Subscription(company=c) for c in companies], batch_size=1000)


def _measure(size: int, concurrency: int) -> dict[str, str]:
    started = time.perf_counter()
    parent = task_launch(
        task_type="sii.sync_documents_all_companies",
        params={"months": 1, "month_offset": 1},
        launched_by="system",
    )
    parent_id = str(parent.task_id)
    done = wait_for(
        lambda: TaskResult.objects.filter(task_id=parent_id, status="SUCCESS").first(),
        timeout=300,
        interval=0.05,
    )
    dispatched_at = time.perf_counter()
    wait_for(lambda: _all_finished(parent_id), timeout=3600, interval=1)
    finished_at = time.perf_counter()
    counts = task_children_counts(parent_task_id=parent_id)
    rows = PurchaseDocument.objects.count() + SaleDocument.objects.count()
    return {
        "companies": str(size),
        "worker concurrency": str(concurrency),
        "dispatch (parent task run time)": f"{(done.date_done - done.date_created).total_seconds():.2f} s",
        "launch to parent SUCCESS": f"{dispatched_at - started:.2f} s",
        "launch to every child finished": f"{finished_at - started:.1f} s",
        "children": str(counts),
        "companies synced per second": f"{size / (finished_at - started):.1f}",
        "documents stored": f"{rows} ({rows / (finished_at - started):,.0f} rows/s end to end)",
        "database": connection.vendor,
    }


def _all_finished(parent_id: str) -> bool:
    counts = task_children_counts(parent_task_id=parent_id)
    return counts["total"] > 0 and counts["pending"] + counts["running"] == 0
