"""OpenAPI examples in the original service's shapes, the task-specific ones read from the catalog."""

from typing import Any

from celery import current_app
from drf_spectacular.utils import OpenApiExample

from tasks_api.registry import TaskType, catalog
from tasks_api.selectors.stats import queue_names

TASK_ID = "550e8400-e29b-41d4-a716-446655440000"


def launch_examples() -> list[OpenApiExample]:
    """Each catalog example as a launch body, then the answers: launched, invalid, already
    running, throttled, not enqueued."""
    bodies = [
        OpenApiExample(
            example.name,
            summary=example.summary,
            request_only=True,
            value={"task_type": task_type.name, "params": example.value},
        )
        for task_type in catalog().values()
        for example in task_type.examples
    ]
    return [*bodies, *_launch_answers(_first_type().name)]


def _launch_answers(task_type: str) -> list[OpenApiExample]:
    launched = {
        "task_id": TASK_ID,
        "task_type": task_type,
        "status": "PENDING",
        "message": f"Task {task_type} launched successfully",
    }
    return [
        OpenApiExample("Launched", response_only=True, status_codes=["202"], value=launched),
        OpenApiExample(
            "Invalid parameters",
            response_only=True,
            status_codes=["422"],
            value={"detail": "Invalid parameters: months must be between 1 and 12"},
        ),
        OpenApiExample(
            "Idempotency-Key reused for another body",
            response_only=True,
            status_codes=["422"],
            value={
                "detail": "Idempotency-Key was already used for a different request; use a new key for a new launch"
            },
        ),
        *_refusals(),
        OpenApiExample(
            "Broker unreachable",
            response_only=True,
            status_codes=["500"],
            value={"detail": "Failed to launch task: Redis connection refused"},
        ),
    ]


def _refusals() -> list[OpenApiExample]:
    """A second fan-out run (when the catalog has a fan-out type) and a throttled launch."""
    throttled = {"detail": "Request was throttled. Expected available in 42 seconds."}
    answers = [OpenApiExample("Throttled", response_only=True, status_codes=["429"], value=throttled)]
    fan_out = next((t.name for t in catalog().values() if t.fans_out), None)
    if fan_out is None:
        return answers
    sentence = f"{fan_out} is already running as task {TASK_ID}; wait for it to finish or revoke it"
    running = {"detail": sentence, "task_id": TASK_ID}
    return [
        OpenApiExample("Already running", response_only=True, status_codes=["409"], value=running),
        *answers,
    ]


def _first_type() -> TaskType:
    return next(iter(catalog().values()))


def _status(status: str, **fields: Any) -> dict:
    return {
        "task_id": TASK_ID,
        "status": status,
        "result": None,
        "error": None,
        "traceback": None,
        "meta": None,
    } | fields


def status_examples() -> list[OpenApiExample]:
    succeeded = next((t.result_example for t in catalog().values() if t.result_example), {"success": True})
    running = {"info": "Task is running", "current": 2, "total": 6, "step": "step 2 of 6"}
    failure = "Traceback (most recent call last):\n  File ..."
    return [
        OpenApiExample("Running", value=_status("STARTED", meta=running)),
        OpenApiExample("Succeeded", value=_status("SUCCESS", result=succeeded)),
        OpenApiExample("Failed", value=_status("FAILURE", error="Connection refused", traceback=failure)),
        OpenApiExample(
            "Unknown id",
            value=_status(
                "PENDING",
                task_id="non-existent-id",
                meta={"info": "Task is waiting to be executed or doesn't exist"},
                unknown=True,
            ),
        ),
    ]


REVOKE = [
    OpenApiExample(
        "Revoked",
        response_only=True,
        status_codes=["200"],
        value={
            "task_id": TASK_ID,
            "status": "revoked",
            "terminate": False,
            "message": f"Task {TASK_ID} has been revoked",
            "children_revoked": 0,
        },
    ),
    OpenApiExample(
        "Already finished",
        response_only=True,
        status_codes=["409"],
        value={"detail": f"Task {TASK_ID} has already finished; its result is kept"},
    ),
]


def stats_examples() -> list[OpenApiExample]:
    task_type = _first_type()
    params = task_type.examples[0].value if task_type.examples else {}
    active: dict[str, Any] = {"id": TASK_ID, "name": task_type.name, "args": [], "kwargs": params}
    worker = "celery@worker1"
    value = {
        "active_tasks": {worker: [active]},
        "scheduled_tasks": {},
        "registered_tasks": sorted(catalog()),
        "worker_stats": {worker: {"total": 156, "pool": {"max-concurrency": 4, "processes": [12345, 12346]}}},
        "reserved_tasks": {worker: []},
        "queues": dict.fromkeys(queue_names(current_app), 0),
        "workers_online": [worker],
        "collected_at": {worker: "2025-06-02T14:03:07.512000+00:00"},
    }
    return [OpenApiExample("One worker", value=value)]


CHILD_ID = "7c9e6679-7425-40de-944b-e07fc1f66afe"
SUBJECT_ID = "123e4567-e89b-12d3-a456-426614174000"


def _run(task_type: TaskType, task_id: str, status: str, **fields: Any) -> dict:
    subjects = sorted({t.subject for t in catalog().values() if t.subject})
    params = task_type.examples[0].value if task_type.examples else {}
    return {
        "task_id": task_id,
        "task_type": task_type.name,
        "status": status,
        **{name: SUBJECT_ID if name == task_type.subject else None for name in subjects},
        "params": params,
        "launched_by": "user",
        "user": "ana",
        "parent_task_id": None,
        "relaunch_of": None,
        "launched_at": "2025-01-15T09:00:00-03:00",
        "started_at": "2025-01-15T09:00:01-03:00",
        "finished_at": "2025-01-15T09:00:03-03:00",
        "error": None,
    } | fields


def run_page_examples(*, children: bool = False) -> list[OpenApiExample]:
    """A page of runs: for children, a failed child of a fan-out parent; else the history."""
    child_type = next((t for t in catalog().values() if t.subject), _first_type())
    failed = _run(child_type, CHILD_ID, "FAILURE", error="Connection refused")
    if children:
        failed |= {"launched_by": "fanout", "user": None, "parent_task_id": TASK_ID}
    page = {
        "count": 1204 if children else 3,
        "next": "http://localhost:8000/api/celery/runs?page=2&page_size=1",
        "previous": None,
        "results": [failed],
    }
    bad = {"detail": "status must be one of PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED"}
    return [
        OpenApiExample("A page", value=page, response_only=True, status_codes=["200"]),
        OpenApiExample("Bad filter", value=bad, response_only=True, status_codes=["400"]),
    ]


def attempt_page_examples() -> list[OpenApiExample]:
    """A run retried after an unavailable service, then succeeded; a bad page."""
    worker = {"worker": "celery@worker-1", "pid": 4127}
    retried = {
        "number": 1, **worker, "started_at": "2026-12-07T05:00:01Z", "ended_at": "2026-12-07T05:00:04Z",
        "outcome": "retry", "error_type": "SiiUnavailable", "reason": "getResumen: HTTP 503 from the SII",
        "retry_at": "2026-12-07T05:01:04Z", "waiting": "",
    }  # fmt: skip
    succeeded = {
        "number": 2, **worker, "started_at": "2026-12-07T05:01:05Z", "ended_at": "2026-12-07T05:01:40Z",
        "outcome": "succeeded", "error_type": "", "reason": "", "retry_at": None, "waiting": "",
    }  # fmt: skip
    page = {"count": 2, "next": None, "previous": None, "results": [retried, succeeded]}
    return [
        OpenApiExample("Retried, then succeeded", value=page, response_only=True, status_codes=["200"]),
        _error_example("Bad page", "400", "page must be a whole number at least 1"),
        _error_example("Unknown id", "404", f"Task {CHILD_ID} not found"),
    ]


def _error_example(name: str, code: str, detail: str) -> OpenApiExample:
    return OpenApiExample(name, value={"detail": detail}, response_only=True, status_codes=[code])


def relaunch_examples() -> list[OpenApiExample]:
    task_type = _first_type().name
    relaunched = {
        "task_id": CHILD_ID,
        "task_type": task_type,
        "status": "PENDING",
        "message": f"Task {task_type} launched successfully",
        "relaunch_of": TASK_ID,
    }
    reused = {
        "detail": "Idempotency-Key was already used for a different request; use a new key for a new launch"
    }
    return [
        OpenApiExample("Relaunched", value=relaunched, response_only=True, status_codes=["202"]),
        OpenApiExample("Key reused", value=reused, response_only=True, status_codes=["422"]),
        OpenApiExample(
            "Unknown id",
            value={"detail": f"Task {CHILD_ID} not found"},
            response_only=True,
            status_codes=["404"],
        ),
    ]
