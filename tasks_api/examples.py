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
    }
    return [OpenApiExample("One worker", value=value)]
