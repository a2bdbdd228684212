"""OpenAPI examples, taken from the seed's documentation of this API."""

from drf_spectacular.utils import OpenApiExample

TASK_ID = "550e8400-e29b-41d4-a716-446655440000"
COMPANY_ID = "123e4567-e89b-12d3-a456-426614174000"

LAUNCH = [
    OpenApiExample(
        "Sync documents for one company",
        request_only=True,
        value={
            "task_type": "sii.sync_documents",
            "params": {"company_id": COMPANY_ID, "months": 3, "month_offset": 0},
        },
    ),
    OpenApiExample(
        "Sync documents for all companies",
        request_only=True,
        value={"task_type": "sii.sync_documents_all_companies", "params": {"months": 1, "month_offset": 1}},
    ),
    OpenApiExample(
        "Sync F29 for one company",
        request_only=True,
        value={"task_type": "sii.sync_f29", "params": {"company_id": COMPANY_ID, "year": "2025"}},
    ),
    OpenApiExample(
        "Sync F29 for all companies",
        request_only=True,
        value={"task_type": "sii.sync_f29_all_companies", "params": {"year": "2025"}},
    ),
    OpenApiExample(
        "Launched",
        response_only=True,
        status_codes=["202"],
        value={
            "task_id": TASK_ID,
            "task_type": "sii.sync_documents",
            "status": "PENDING",
            "message": "Task sii.sync_documents launched successfully",
        },
    ),
    OpenApiExample(
        "Invalid parameters",
        response_only=True,
        status_codes=["422"],
        value={"detail": "Invalid parameters: company_id is required"},
    ),
    OpenApiExample(
        "Broker unreachable",
        response_only=True,
        status_codes=["500"],
        value={"detail": "Failed to launch task: Redis connection refused"},
    ),
]


def _status(status: str, **fields) -> dict:
    return {
        "task_id": TASK_ID,
        "status": status,
        "result": None,
        "error": None,
        "traceback": None,
        "meta": None,
    } | fields


STATUS = [
    OpenApiExample(
        "Running",
        value=_status(
            "STARTED", meta={"info": "Task is running", "current": 2, "total": 6, "step": "ventas 202412"}
        ),
    ),
    OpenApiExample(
        "Succeeded",
        value=_status(
            "SUCCESS",
            result={
                "success": True,
                "compras": {"total": 150, "period": "202501"},
                "ventas": {"total": 89, "period": "202501"},
                "honorarios": {"total": 12},
            },
        ),
    ),
    OpenApiExample(
        "Failed",
        value=_status(
            "FAILURE", error="Company not found", traceback="Traceback (most recent call last):\n  File ..."
        ),
    ),
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

STATS = [
    OpenApiExample(
        "One worker",
        value={
            "active_tasks": {
                "celery@worker1": [
                    {
                        "id": TASK_ID,
                        "name": "sii.sync_documents",
                        "args": [],
                        "kwargs": {"company_id": COMPANY_ID},
                    }
                ]
            },
            "scheduled_tasks": {},
            "registered_tasks": [
                "sii.sync_documents",
                "sii.sync_documents_all_companies",
                "sii.sync_f29",
                "sii.sync_f29_all_companies",
            ],
            "worker_stats": {
                "celery@worker1": {
                    "total": 156,
                    "pool": {"max-concurrency": 4, "processes": [12345, 12346, 12347, 12348]},
                }
            },
            "reserved_tasks": {"celery@worker1": []},
            "queues": {"sii": 0, "celery": 0},
            "workers_online": ["celery@worker1"],
        },
    ),
]
