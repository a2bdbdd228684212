"""A task's status as the API shows it: the launch record joined with its stored result."""

import json
from functools import cache

from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.registry import catalog
from tasks_api.selectors.launches import task_children_counts
from tasks_api.services.launches import launch_failure_message
from tasks_api.sql import ModelColumns, fetch_one
from tasks_api.states import FINISHED, run_status

WAITING = {"info": "Task is waiting to be executed"}
UNKNOWN = {"info": "Task is waiting to be executed or doesn't exist"}
LAUNCH = ModelColumns(TaskLaunch, "launch")
RESULT = ModelColumns(TaskResult, "result")


def task_launch_find(*, task_id: str) -> TaskLaunch | None:
    return TaskLaunch.objects.filter(task_id=task_id).first()


def task_status_get(*, task_id: str) -> dict:
    """{task_id, status, result, error, traceback, meta} plus what the launch record adds."""
    launch, stored = launch_and_result_find(task_id=task_id)
    status = _status(launch, stored)
    answer = {"task_id": task_id, **status, **_launch_fields(launch, stored)}
    task_type = catalog().get(launch.task_type) if launch else None
    if launch and task_type and task_type.fans_out:
        answer["meta"] = _with_children(answer["meta"], launch)
    return answer


def launch_and_result_find(*, task_id: str) -> tuple[TaskLaunch | None, TaskResult | None]:
    """A run's launch record and stored result, either of which may not exist, in one query."""
    row = fetch_one(_launch_and_result_sql(), [task_id])
    assert row is not None  # the one-row derived table always yields a row
    return LAUNCH.load(row[: LAUNCH.width]), RESULT.load(row[LAUNCH.width :])


@cache
def _launch_and_result_sql() -> str:
    # The id as a one-row table, so that a result with no launch record (a task published by
    # hand) and a launch with no result yet both come back.
    return (
        f"SELECT {LAUNCH.select}, {RESULT.select} FROM (SELECT %s AS id) AS asked "  # noqa: S608 (names from the models; values are parameters)
        f"LEFT JOIN {LAUNCH.table} ON {LAUNCH.column('task_id')} = asked.id "
        f"LEFT JOIN {RESULT.table} ON {RESULT.column('task_id')} = asked.id"
    )


def _status(launch: TaskLaunch | None, stored: TaskResult | None) -> dict:
    status = run_status(
        stored=stored.status if stored else None,
        enqueued=launch.enqueued if launch else None,
        revoke_requested=bool(launch and launch.is_revoked),
    )
    if stored is not None and stored.status != "PENDING":  # the stored state won
        return _from_result(stored, launch)
    if launch is None:
        return _answer("PENDING", meta=UNKNOWN)
    if status == "FAILURE":
        return _answer("FAILURE", error=launch_failure_message(launch.enqueue_error))
    if status == "REVOKED":
        return _answer("REVOKED", meta={"info": "Task was revoked"})
    return _answer("PENDING", meta=WAITING)


def _from_result(stored: TaskResult, launch: TaskLaunch | None) -> dict:
    value = json.loads(stored.result) if stored.result else None
    match stored.status:
        case "SUCCESS":
            return _answer("SUCCESS", result=value)
        case "FAILURE":
            return _answer("FAILURE", error=_error_message(value), traceback=stored.traceback)
        case "STARTED":
            progress = {k: v for k, v in (value or {}).items() if k not in ("pid", "info")}
            return _answer("STARTED", meta={"info": "Task is running", **progress})
        case "RETRY":
            retries = launch.retries if launch else None
            meta = {"info": "Task is being retried", "retries": retries, "last_error": _error_message(value)}
            return _answer("RETRY", meta=meta)
        case "REVOKED":
            return _answer("REVOKED", meta={"info": "Task was revoked"})
    return _answer(stored.status, meta=value if isinstance(value, dict) else None)


def _answer(status: str, *, result=None, error=None, traceback=None, meta=None) -> dict:
    return {"status": status, "result": result, "error": error, "traceback": traceback, "meta": meta}


def stored_failure_message(result: str | None) -> str | None:
    """The error message of a stored FAILURE result (its JSON text), as the status answer says it."""
    return _error_message(json.loads(result) if result else None)


def _error_message(value) -> str | None:
    """The exception's own message ("Company not found"), else its type."""
    if not isinstance(value, dict):
        return None if value is None else str(value)
    message = value.get("exc_message")
    if isinstance(message, list | tuple):
        message = " ".join(str(part) for part in message)
    return message or value.get("exc_type")


def _launch_fields(launch: TaskLaunch | None, stored: TaskResult | None) -> dict:
    finished = stored.date_done if stored and stored.status in FINISHED else None
    return {
        "task_type": launch.task_type if launch else (stored.task_name if stored else None),
        "params": launch.params if launch else None,
        "unknown": launch is None and stored is None,
        "launched_at": launch.created_at if launch else None,
        "started_at": stored.date_created if stored and not _revoked_unstarted(launch, stored) else None,
        "finished_at": finished,
    }


def _revoked_unstarted(launch: TaskLaunch | None, stored: TaskResult) -> bool:
    """A result row written by the revoke itself (no worker ever started the task)."""
    revoked_at = launch.revoke_requested_at if launch else None
    return stored.status == "REVOKED" and revoked_at is not None and stored.date_created >= revoked_at


def _with_children(meta: dict | None, launch: TaskLaunch) -> dict:
    counts = task_children_counts(parent_task_id=launch.task_id)
    done = counts["total"] > 0 and counts["pending"] + counts["running"] == 0
    return {**(meta or {}), "children": counts, "children_done": done}
