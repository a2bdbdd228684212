"""Web rows, one side at a time: launch (c=1, c=16), status of a finished task, stats, health.

Stats are asked one request every Plan.stats_every seconds (5 s in the full run: the oldest data
the target allows), so a cache keeping an answer for less than that cannot answer from memory.

"ours" is this API on gunicorn; "reference" is Flower 2.2.0 on the same Redis and worker. Web CPU
is the serving processes' own (gunicorn's master and workers; Flower's one process) over the
phase, per request; what PostgreSQL and Redis spend is not in it, for either side.
"""

import base64
import json
import statistics
from dataclasses import dataclass

from benchmarks.client import Load, Request, load_run, spaced_samples
from benchmarks.figures import spec
from benchmarks.plan import Plan
from benchmarks.stack import Service

SPECS = [
    spec("launch_c1_median", "Launch c=1: median latency", "ms"),
    spec("launch_c1_rps", "Launch c=1: throughput", "req/s", higher=True, ratio=1.0),
    spec("launch_c1_cpu", "Launch c=1: web CPU per launch", "ms", ratio=1.0),
    spec("launch_c16_rps", "Launch c=16: throughput", "req/s", higher=True, ratio=1.0),
    spec("status_median", "Status of a finished task: median", "ms", ratio=1.0),
    spec("status_cpu", "Status of a finished task: web CPU per request", "ms", ratio=1.0),
    spec("stats_p50", "Stats with fresh data: p50", "ms", target="ours <= 100 ms", target_value=100.0),
    spec("health_median", "Trivial endpoint (health): median", "ms"),
    spec("health_cpu", "Trivial endpoint (health): web CPU per request", "ms"),
]
# A phase with more failed requests than this share is a broken benchmark, not a figure.
MAX_ERROR_SHARE = 0.01


@dataclass(frozen=True)
class Side:
    """The requests of one side and the process that serves them."""

    name: str
    service: Service
    launch: Request
    status: Request
    stats: Request
    health: Request


def ours(*, service: Service, base_url: str, token: str, finished_id: str) -> Side:
    headers = (("Authorization", f"Token {token}"), ("Content-Type", "application/json"))
    api = f"{base_url}/api/celery"
    body = json.dumps({"task_type": "bench.noop", "params": {}})
    return Side(
        name="ours",
        service=service,
        launch=Request(f"{api}/tasks/launch", "POST", body, headers),
        status=Request(f"{api}/tasks/{finished_id}", headers=headers),
        stats=Request(f"{api}/stats", headers=headers),
        health=Request(f"{base_url}/healthz"),
    )


def flower(*, service: Service, base_url: str, auth: tuple[str, str], finished_id: str) -> Side:
    basic = base64.b64encode(":".join(auth).encode()).decode()
    headers = (("Authorization", f"Basic {basic}"), ("Content-Type", "application/json"))
    return Side(
        name="reference",
        service=service,
        launch=Request(f"{base_url}/api/task/async-apply/bench.bare", "POST", "{}", headers),
        status=Request(f"{base_url}/api/task/result/{finished_id}", headers=headers),
        stats=Request(f"{base_url}/api/workers?refresh=1", headers=headers),
        health=Request(f"{base_url}/healthcheck", headers=headers),
    )


def web_measure(side: Side, *, plan: Plan, client: str, drain) -> tuple[dict[str, float], dict]:
    """One round of every web row for `side`: the row values, and the raw phases for the JSON.

    `drain()` waits for the worker to finish what the launches queued, between phases.
    """
    raw: dict[str, dict] = {}

    def phase(name: str, request: Request, connections: int = 1) -> tuple[Load, float]:
        load, cpu = _measured(
            side.service, request, connections=connections, seconds=plan.phase_seconds, client=client
        )
        raw[name] = {**load.__dict__, "per_second": load.per_second, "cpu_ms_per_request": cpu}
        return load, cpu

    launch, launch_cpu = phase("launch_c1", side.launch)
    drain()
    launch16, _ = phase("launch_c16", side.launch, connections=16)
    drain()
    status, status_cpu = phase("status", side.status)
    stats = spaced_samples(side.stats, count=plan.stats_samples, every=plan.stats_every)
    raw["stats"] = {"samples_ms": stats, "every_s": plan.stats_every}
    health, health_cpu = phase("health", side.health)
    values = {
        "launch_c1_median": launch.median_ms, "launch_c1_rps": launch.per_second,
        "launch_c1_cpu": launch_cpu, "launch_c16_rps": launch16.per_second,
        "status_median": status.median_ms, "status_cpu": status_cpu, "stats_p50": statistics.median(stats),
        "health_median": health.median_ms, "health_cpu": health_cpu,
    }  # fmt: skip
    return values, raw


def _measured(service: Service, request: Request, *, connections: int, seconds: float, client: str):
    """The phase's load, and the serving processes' CPU milliseconds per request."""
    before = service.cpu_seconds()
    load = load_run(request, connections=connections, seconds=seconds, client=client)
    spent = service.cpu_seconds() - before
    if load.requests == 0 or load.errors > load.requests * MAX_ERROR_SHARE:
        raise RuntimeError(
            f"{request.method} {request.url}: {load.errors} of {load.requests} requests failed"
        )
    return load, spent * 1000 / load.requests
