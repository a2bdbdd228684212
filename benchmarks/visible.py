"""Launch -> finished state visible to a client, on a trivial task, one run at a time.

Ours: launch bench.noop, then GET /tasks/{id}?wait=5 (the API's way to wait: the answer comes
when the run finishes), and, as an info row, plain polling every POLL_EVERY seconds. Flower:
async-apply bench.bare, then poll /api/task/result/{id} every POLL_EVERY seconds until SUCCESS.
"""

import http.client
import json
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from benchmarks.client import Request, http_call
from benchmarks.figures import spec
from benchmarks.web import Side

SPECS = [
    spec("visible_wait", "Launch -> finished state visible (ours: ?wait=5)", "ms", ratio=1.0),
    spec("visible_poll", "Launch -> finished state visible (ours: polling)", "ms"),
]
POLL_EVERY = 0.002
TIMEOUT = 30.0


def visible_measure(side: Side, *, runs: int) -> tuple[dict[str, float], dict]:
    """Median milliseconds from the launch request to the first answer saying SUCCESS."""
    if side.name == "ours":
        waited = _runs(side, runs, lambda c, task_id: _wait(c, side.status, task_id))
        polled = _runs(side, runs, lambda c, task_id: _poll(c, side.status, task_id, "status"))
        values = {"visible_wait": statistics.median(waited), "visible_poll": statistics.median(polled)}
        return values, {"visible_wait_ms": waited, "visible_poll_ms": polled}
    polled = _runs(side, runs, lambda c, task_id: _poll(c, side.status, task_id, "state"))
    # Flower has no waiting request: its polling is its way, the reference for both rows.
    return {"visible_wait": statistics.median(polled), "visible_poll": statistics.median(polled)}, {
        "visible_poll_ms": polled
    }


def _runs(side: Side, runs: int, until_finished: Callable[[http.client.HTTPConnection, str], None]) -> list:
    parts = urlsplit(side.launch.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    took = []
    try:
        for _ in range(runs):
            began = time.perf_counter()
            task_id = _launch(connection, side.launch)
            until_finished(connection, task_id)
            took.append((time.perf_counter() - began) * 1000)
    finally:
        connection.close()
    return took


def _launch(connection: http.client.HTTPConnection, launch: Request) -> str:
    status, body = http_call(connection, "POST", urlsplit(launch.url).path, launch.body, dict(launch.headers))
    if status not in (200, 202):
        raise RuntimeError(f"POST {launch.url} answered {status}: {body[:200]!r}")
    answer = json.loads(body)
    return answer.get("task_id") or answer["task-id"]


def _status_path(status: Request, task_id: str) -> str:
    """The status request's path for `task_id` (its template holds another task's id)."""
    return urlsplit(status.url).path.rsplit("/", 1)[0] + f"/{task_id}"


def _wait(connection: http.client.HTTPConnection, status: Request, task_id: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    path = _status_path(status, task_id) + "?wait=5"
    while time.monotonic() < deadline:
        if _state(connection, path, status, "status") == "SUCCESS":
            return
    raise RuntimeError(f"{task_id} did not finish within {TIMEOUT} s")


def _poll(connection: http.client.HTTPConnection, status: Request, task_id: str, key: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    path = _status_path(status, task_id)
    while time.monotonic() < deadline:
        if _state(connection, path, status, key) == "SUCCESS":
            return
        time.sleep(POLL_EVERY)
    raise RuntimeError(f"{task_id} did not finish within {TIMEOUT} s")


def _state(connection: http.client.HTTPConnection, path: str, status: Request, key: str) -> str:
    return json.loads(http_call(connection, "GET", path, headers=dict(status.headers))[1])[key]
