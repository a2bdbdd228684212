"""Every change of a run's stored state, here and nowhere else; each one a conditional UPDATE.

A run is PENDING until a worker starts it (STARTED), may wait for a retry (RETRY), and ends
SUCCESS, FAILURE or REVOKED. A change that arrives late (a redelivered message, a worker that was
presumed dead, a revoke racing a finish) matches no row: a finished run stays finished.
Callers: the launch service (published or not), the claim (a delivery begins), the result backend
(what a worker stored), the revoke service, the fan-out (children born revoked) and the
reconciler (runs lost with their worker, states it adopts from the result backend).
"""

import json
import os
import socket
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.runs import attempts
from tasks_api.runs.errors import exception_message, launch_failure_message
from tasks_api.runs.notifications import run_finished_notify
from tasks_api.sql import fetch_one
from tasks_api.states import FINISHED

WAITING = ("PENDING", "RETRY")  # no worker has the run now: a revoke ends it at once
STORED_STATES = ("STARTED", "RETRY", *FINISHED)  # what a worker stores that changes the run


def _unfinished(**filters: Any) -> QuerySet[TaskLaunch]:
    return TaskLaunch.objects.filter(**filters).exclude(status__in=FINISHED)


def runs_published(*, task_ids: Sequence[str]) -> None:
    """The broker took them: enqueued, stamped with this publish (their state is unchanged)."""
    # Written out: every launch pays it, and the ORM's compiling cost more than the statement.
    if task_ids:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_published_sql(len(task_ids)), [now, *task_ids])


def _published_sql(count: int) -> str:
    table = connection.ops.quote_name(TaskLaunch._meta.db_table)
    ids = ", ".join(["%s"] * count)
    return f"UPDATE {table} SET enqueued = true, published_at = %s WHERE task_id IN ({ids})"  # noqa: S608 (placeholders only)


def runs_publish_failed(*, task_ids: Sequence[str], reason: str) -> None:
    """The broker refused them: each run still waiting for its first publish fails."""
    runs = TaskLaunch.objects.filter(task_id__in=task_ids)
    with transaction.atomic():
        runs.update(enqueued=False, enqueue_error=reason[:2000])
        runs.filter(status="PENDING").update(
            status="FAILURE", finished_at=timezone.now(), error=launch_failure_message(reason[:2000])
        )
    run_finished_notify(task_ids=task_ids)


def this_process() -> str:
    """A claim's holder: host and pid of the worker process running the task."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_claimed(
    *, task_id: str, max_lost: int, holder: str, worker: str, pid: int
) -> tuple[bool, bool] | None:
    """A delivery begins: record the claim and open its attempt, ending as lost an attempt whose
    worker died (a claim still written on the row). (claimed, revoked); claimed is False once
    `max_lost` deliveries were lost. None when the run has no record (published by hand)."""
    if connection.vendor != "postgresql":
        return _claimed_in_orm(task_id=task_id, max_lost=max_lost, holder=holder, worker=worker, pid=pid)
    params = {"task_id": task_id, "max_lost": max_lost, "holder": holder, "worker": worker[:255], "pid": pid}
    row = fetch_one(_claimed_sql(), params)
    return None if row is None else (bool(row[0]), bool(row[1]))


# Revoked itself, or its fan-out parent was: a child published before the parent's revoke
# reached it never runs after that revoke (the revoke marks the children a moment later).
_REVOKED_SQL = (
    "(revoke_requested_at IS NOT NULL OR EXISTS (SELECT 1 FROM {table} AS parent "
    "WHERE parent.task_id = {table}.parent_id AND parent.revoke_requested_at IS NOT NULL))"
)


@cache
def _claimed_sql() -> str:
    table = connection.ops.quote_name(TaskLaunch._meta.db_table)
    lost = "lost_deliveries + (claimed_by <> '')::int"
    exhausted = f"{lost} >= %(max_lost)s"
    return (
        f"WITH claimed AS (UPDATE {table} SET lost_deliveries = {lost}, "  # noqa: S608 (constants; values are parameters)
        f"claimed_by = CASE WHEN {exhausted} THEN '' ELSE %(holder)s END, "
        f"claimed_at = CASE WHEN {exhausted} THEN claimed_at ELSE now() END, "
        f"deliveries = CASE WHEN {exhausted} THEN deliveries ELSE deliveries + 1 END "
        "WHERE task_id = %(task_id)s "
        f"RETURNING task_id, deliveries, claimed_by <> '' AS claimed, {_REVOKED_SQL.format(table=table)} AS revoked), "
        f"{attempts.attempt_insert_sql('claimed')} SELECT claimed, revoked FROM claimed"
    )


@transaction.atomic
def _claimed_in_orm(
    *, task_id: str, max_lost: int, holder: str, worker: str, pid: int
) -> tuple[bool, bool] | None:
    """SQLite: the caller checked that no live process holds the claim; the write lock makes
    this atomic."""
    launch = TaskLaunch.objects.select_for_update().filter(task_id=task_id).first()
    if launch is None:
        return None
    lost = launch.lost_deliveries + (1 if launch.claimed_by else 0)
    claimed = lost < max_lost
    TaskLaunch.objects.filter(pk=task_id).update(
        lost_deliveries=lost,
        claimed_by=holder if claimed else "",
        claimed_at=timezone.now() if claimed else launch.claimed_at,
        deliveries=launch.deliveries + (1 if claimed else 0),
    )
    attempts.attempt_lost(task_id=task_id, message=attempts.WORKER_DIED)
    if claimed:
        attempts.attempt_begin(task_id=task_id, number=launch.deliveries + 1, worker=worker, pid=pid)
    parent_revoked = TaskLaunch.objects.filter(task_id=launch.parent_id, revoke_requested_at__isnull=False)
    return claimed, launch.is_revoked or (launch.parent_id is not None and parent_revoked.exists())


def run_delivery_skipped(*, task_id: str, worker: str, pid: int, reason: str) -> None:
    """A delivery acknowledged without running: recorded as an attempt; the state is unchanged."""
    attempts.attempt_skipped(task_id=task_id, worker=worker, pid=pid, reason=reason)


def run_waiting(*, task_id: str, waiting: str) -> None:
    """The run's attempt says what it waits for (a rate, a service coming back), or "" when it goes on."""
    attempts.attempt_waiting(task_id=task_id, waiting=waiting)


def run_state_stored(*, task_id: str, state: str, meta: Any, request: Any = None) -> bool:
    """What a worker stored in the result backend (STARTED, RETRY or a finished state), applied
    to the run, and to its open attempt. False when the run had already finished: the backend
    then keeps its own stored state too. A run with no record (published by hand) has only its
    result: a finished one stays so, but for a finish arriving late."""
    if state not in STORED_STATES:  # a custom state a task reported: the run's own is unchanged
        return not TaskLaunch.objects.filter(task_id=task_id, status__in=FINISHED).exists()
    changed = _unfinished(task_id=task_id).update(**_change(state, meta, request))
    if state != "STARTED":
        retry_at = attempts.retry_time(getattr(request, "retry_when", None))
        attempts.attempt_end(task_id=task_id, state=state, meta=meta, retry_at=retry_at)
    applies = bool(changed) or _unrecorded_may_store(task_id, state)
    if state in FINISHED and applies:
        run_finished_notify(task_ids=[task_id])
    return applies


def _unrecorded_may_store(task_id: str, state: str) -> bool:
    if TaskLaunch.objects.filter(task_id=task_id).exists():
        return False  # recorded, and finished
    return state in FINISHED or not TaskResult.objects.filter(task_id=task_id, status__in=FINISHED).exists()


def _change(state: str, meta: Any, request: Any) -> dict[str, Any]:
    now = timezone.now()
    if state == "STARTED":  # also each progress report: the start is the first one's
        return {"status": state, "started_at": Coalesce("started_at", Value(now))}
    if state == "RETRY":
        retries = getattr(request, "retries", None)
        done = F("retries") + 1 if retries is None else retries + 1
        error = exception_message(meta) or "retried"
        return {"status": state, "retries": done, "error": error, **_unclaimed()}
    error = (exception_message(meta) or "failed") if state == "FAILURE" else ""
    return {"status": state, "finished_at": now, "error": error, **_unclaimed()}


def _unclaimed() -> dict[str, Any]:
    # The attempt is over: so is this process's claim, even if its release could not be written
    # (the database was away), so the next delivery does not count a death. Only this process's:
    # a state stored late must not clear the claim of a delivery that began since.
    return {"claimed_by": Case(When(claimed_by=this_process(), then=Value("")), default=F("claimed_by"))}


@transaction.atomic
def runs_revoke_requested(*, task_ids: Sequence[str], user: Any, terminate: bool) -> list[str]:
    """Record a revoke of these runs; those no worker has (waiting, or waiting for a retry) are
    REVOKED at once, running ones when their worker stops them (it stores REVOKED). Returns the
    ids revoked for the first time."""
    now = timezone.now()
    first = TaskLaunch.objects.filter(task_id__in=task_ids, revoke_requested_at__isnull=True)
    newly = [str(task_id) for task_id in first.values_list("task_id", flat=True)]
    first.update(revoke_requested_at=now, revoked_by=user, terminate_requested=terminate)
    waiting = dict(
        TaskLaunch.objects.select_for_update()
        .filter(task_id__in=task_ids, status__in=WAITING)
        .values_list("task_id", "task_type")
    )
    TaskLaunch.objects.filter(task_id__in=waiting).update(status="REVOKED", finished_at=now)
    _results_revoked(waiting, now)
    run_finished_notify(task_ids=list(waiting))
    return newly


def _results_revoked(names: dict[str, str], now: Any) -> None:
    """The result backend says REVOKED too, for the runs revoked while waiting."""
    rows = [
        TaskResult(task_id=i, status="REVOKED", task_name=name, date_done=now) for i, name in names.items()
    ]
    TaskResult.objects.bulk_create(rows, ignore_conflicts=True)
    TaskResult.objects.filter(task_id__in=names, status__in=WAITING).update(status="REVOKED", date_done=now)


def runs_born_revoked(*, task_ids: Sequence[str], revocation: dict[str, Any]) -> None:
    """A revoked fan-out parent's children not yet published carry its revocation: REVOKED."""
    unpublished = TaskLaunch.objects.filter(task_id__in=task_ids, revoke_requested_at__isnull=True)
    unpublished.exclude(enqueued=True).filter(status="PENDING").update(
        **revocation, status="REVOKED", finished_at=timezone.now()
    )


@transaction.atomic
def run_lost(*, task_id: str, holder: str, final: bool, message: str) -> bool:
    """The worker holding the run (`holder`) died: the run waits to be delivered again (RETRY),
    or fails when `final`. False when the run moved on meanwhile (a new delivery claimed it)."""
    status = "FAILURE" if final else "RETRY"
    changed = TaskLaunch.objects.filter(task_id=task_id, claimed_by=holder, status="STARTED").update(
        lost_deliveries=F("lost_deliveries") + 1,
        claimed_by="",
        status=status,
        error=message,
        finished_at=timezone.now() if final else None,
    )
    if not changed:
        return False
    TaskResult.objects.filter(task_id=task_id, status="STARTED").update(
        status=status, result=attempts.worker_lost_result(message), date_done=timezone.now()
    )
    attempts.attempt_lost(task_id=task_id, message=message)
    if final:
        run_finished_notify(task_ids=[task_id])
    return True


def runs_adopt_stored(*, limit: int) -> list[str]:
    """Unfinished runs whose result backend holds a finished state (written by a worker of an
    earlier release, during an upgrade) take that state. Returns their ids."""
    stored = TaskResult.objects.filter(status__in=FINISHED)
    runs = _unfinished().filter(task_id__in=stored.values("task_id"))
    adopted = []
    for task_id in runs.values_list("task_id", flat=True)[:limit]:
        fields = ("status", "result", "date_created", "date_done")
        result = TaskResult.objects.filter(task_id=task_id).values(*fields).first()
        if result and _adopt(task_id, result):
            adopted.append(task_id)
    run_finished_notify(task_ids=adopted)
    return adopted


def _adopt(task_id: str, result: dict[str, Any]) -> bool:
    meta = _loads(result["result"])
    error = (exception_message(meta) or "failed") if result["status"] == "FAILURE" else ""
    started = Coalesce("started_at", Value(result["date_created"]))
    change = {"status": result["status"], "finished_at": result["date_done"], "error": error}
    return bool(_unfinished(task_id=task_id).update(**change, started_at=started))


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text
