"""API latencies over real HTTP: launch, status, stats, against runserver, Redis and a worker."""

import statistics
import tempfile
import time
from pathlib import Path

import httpx
from django.conf import settings
from knox.models import AuthToken

from config.celery import app as celery_app
from sii.services.companies import company_create
from sii.simulator.app import SiiSimulator
from sii.simulator.server import serve_in_thread
from tests.factories import UserFactory
from tests.processes import WebServer, WorkerProcess, free_port, wait_for, worker_env

ROUNDS = 100


def run_api_latency() -> dict[str, str]:
    simulator_server, simulator_url = serve_in_thread(SiiSimulator())
    env = worker_env(database=settings.DATABASES["default"], simulator_url=simulator_url)
    logs = Path(tempfile.mkdtemp())
    worker = WorkerProcess(env=env, log_path=logs / "worker.log", concurrency=2)
    web = WebServer(env=env, port=free_port(), log_path=logs / "web.log", gunicorn=True)
    try:
        worker.wait_ready(celery_app)
        web.wait_ready()
        return _measure(web.base_url)
    finally:
        web.stop()
        worker.stop()
        simulator_server.shutdown()


def _measure(base_url: str) -> dict[str, str]:
    _, token = AuthToken.objects.create(user=UserFactory(username="bench", is_superuser=True), expiry=None)
    company = company_create(name="Bench API SpA", rut="76.354.771-K", sii_password="x", subscribed=False)
    body = {"task_type": "sii.sync_documents", "params": {"company_id": str(company.pk)}}
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=f"{base_url}/api/celery", headers=headers, timeout=30) as http:
        launches, task_ids = _timed(ROUNDS, lambda: http.post("/tasks/launch", json=body).json()["task_id"])
        statuses, _ = _timed(ROUNDS, lambda: http.get(f"/tasks/{task_ids[-1]}").json())
        end_to_end = _launch_to_success(http, body)
        cold_stats = _timed(1, lambda: (time.sleep(3.1), http.get("/stats"))[1])[0]
        warm_stats, _ = _timed(20, lambda: http.get("/stats"))
    return {
        "server": "gunicorn, 2 sync workers",
        "launch (POST, 202)": _summary(launches),
        "status (GET)": _summary(statuses),
        "status, in-process (no HTTP server)": _summary(_in_process_statuses(token, task_ids[-1])),
        "stats, one broadcast (cold)": f"{cold_stats[0] * 1000 - 3100:.0f} ms",
        "stats, cached": _summary(warm_stats),
        "one sync, launch to SUCCESS seen": f"{end_to_end * 1000:.0f} ms (polling every 50 ms)",
    }


def _in_process_statuses(token: str, task_id: str) -> list[float]:
    """The same request through Django's test client: the framework's share of the latency."""
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return _timed(ROUNDS, lambda: client.get(f"/api/celery/tasks/{task_id}"))[0]


def _timed(rounds: int, call) -> tuple[list[float], list]:
    durations, values = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        values.append(call())
        durations.append(time.perf_counter() - started)
    return durations, values


def _launch_to_success(http: httpx.Client, body: dict) -> float:
    wait_for(lambda: http.get("/stats").json()["queues"][settings.SII_QUEUE] == 0, timeout=300, interval=0.5)
    started = time.perf_counter()
    task_id = http.post("/tasks/launch", json=body).json()["task_id"]
    wait_for(lambda: http.get(f"/tasks/{task_id}").json()["status"] == "SUCCESS", timeout=60, interval=0.05)
    return time.perf_counter() - started


def _summary(durations: list[float]) -> str:
    ms = sorted(d * 1000 for d in durations)
    p95 = ms[int(len(ms) * 0.95) - 1] if len(ms) > 1 else ms[0]
    return f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms over {len(ms)} requests"
