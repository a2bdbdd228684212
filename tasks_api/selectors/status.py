"""A task's status as the API shows it: the run's stored state, with its result's payload."""

import json
from functools import cache
from typing import Any

from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.registry import catalog
from tasks_api.runs.errors import exception_message
from tasks_api.selectors.launches import task_children_counts
from tasks_api.sql import ModelColumns, fetch_one
from tasks_api.states import FINISHED

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
    """The answer for the run's stored state; a run with no record (published by hand) is
    answered from its result alone."""
    value = _loads(stored.result) if stored else None
    if launch is None:
        if stored is None or stored.status == "PENDING":
            return _answer("PENDING", meta=UNKNOWN)
        state, error = stored.status, exception_message(value)
    else:
        state, error = launch.status, launch.error or None
    match state:
        case "SUCCESS":
            return _answer("SUCCESS", result=value)
        case "FAILURE":
            return _answer("FAILURE", error=error, traceback=stored.traceback if stored else None)
        case "STARTED":
            progress = {k: v for k, v in (value or {}).items() if k not in ("pid", "info")}
            return _answer("STARTED", meta={"info": "Task is running", **progress})
        case "RETRY":
            retries = launch.retries if launch else None
            return _answer(
                "RETRY", meta={"info": "Task is being retried", "retries": retries, "last_error": error}
            )
        case "REVOKED":
            return _answer("REVOKED", meta={"info": "Task was revoked"})
        case "PENDING":
            return _answer("PENDING", meta=WAITING)
    return _answer(state, meta=value if isinstance(value, dict) else None)


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:  # a backend that stored something else: say it as it is
        return text


def _answer(status: str, *, result=None, error=None, traceback=None, meta=None) -> dict:
    return {"status": status, "result": result, "error": error, "traceback": traceback, "meta": meta}


def _launch_fields(launch: TaskLaunch | None, stored: TaskResult | None) -> dict:
    if launch is None:
        finished = stored.date_done if stored and stored.status in FINISHED else None
        started = stored.date_created if stored else None
    else:
        started, finished = launch.started_at, launch.finished_at
    return {
        "task_type": launch.task_type if launch else (stored.task_name if stored else None),
        "params": launch.params if launch else None,
        "unknown": launch is None and stored is None,
        "launched_at": launch.created_at if launch else None,
        "started_at": started,
        "finished_at": finished,
    }


def _with_children(meta: dict | None, launch: TaskLaunch) -> dict:
    counts = task_children_counts(parent_task_id=launch.task_id)
    done = counts["total"] > 0 and counts["pending"] + counts["running"] == 0
    return {**(meta or {}), "children": counts, "children_done": done}
