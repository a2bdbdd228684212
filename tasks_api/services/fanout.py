"""Fan-out: a parent run records and publishes one child per subject, in batches, replayably.

A parent's message may be delivered again after its worker died mid-dispatch. Children have
ids derived from (parent, params), are recorded with insert-or-ignore and marked enqueued only
once published, so the next delivery publishes exactly the children still unpublished. Between
batches the dispatch checks whether the parent was revoked; children recorded after the revoke
are born revoked and never published.
"""

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, cast

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from tasks_api.metrics.core import launches_count
from tasks_api.models import TaskLaunch
from tasks_api.registry import catalog
from tasks_api.runs.transitions import runs_born_revoked
from tasks_api.services.launches import TaskRevoked, launches_publish

CHILD_NAMESPACE = uuid.UUID("5b3c1d2e-8f4a-4c6b-9d0e-7a1f2b3c4d5e")
# What varies from one child's record to the next; every other column is the same for a batch.
VARYING = ("task_id", "params", "subject_id", "created_at")


class Child(NamedTuple):
    """A child as the dispatch holds it: what its record varies in, and all a publish needs."""

    task_id: str
    task_type: str
    params: dict
    subject_id: str | None

    @property
    def launched_by(self) -> str:
        return TaskLaunch.LaunchedBy.FANOUT


def child_task_id(*, parent_task_id: str, params: dict) -> str:
    """The same child of the same parent always gets the same id."""
    return str(uuid.uuid5(CHILD_NAMESPACE, f"{parent_task_id}:{json.dumps(params, sort_keys=True)}"))


def task_launch_children(
    *, parent_task_id: str, task_type: str, params_list: Sequence[dict], batch_size: int
) -> int:
    """Record and publish one child task per params, in batches: three statements (four when
    a replay finds children recorded before) and one pipelined publish per batch, never a query
    per child. Raises TaskRevoked when the parent is revoked, TaskLaunchFailed when the broker
    refuses. Returns how many children were dispatched (by this delivery or an earlier one)."""
    dispatched = 0
    for batch in _chunks(params_list, batch_size):
        children = _children(parent_task_id, task_type, batch)
        new_ids = _record(parent_task_id, children)
        # Without RETURNING (SQLite) a replayed batch is counted again: a rare over-count.
        recorded = len(children) if new_ids is None else len(new_ids)
        launches_count(task_type=task_type, launched_by=TaskLaunch.LaunchedBy.FANOUT, count=recorded)
        revocation = _revocation(parent_task_id)  # read after the insert: see task_revoke's order
        if revocation["revoke_requested_at"]:
            runs_born_revoked(task_ids=[child.task_id for child in children], revocation=revocation)
            raise TaskRevoked()
        launches_publish(launches=_unpublished(children, new_ids))
        dispatched += len(children)
    return dispatched


def _children(parent_task_id: str, task_type: str, batch: Sequence[dict]) -> list[Child]:
    known = catalog().get(task_type)
    return [
        Child(
            task_id=child_task_id(parent_task_id=parent_task_id, params=params),
            task_type=task_type,
            params=params,
            subject_id=known.subject_of(params) if known else None,
        )
        for params in batch
    ]


def _record(parent_task_id: str, children: list[Child]) -> set[str] | None:
    """Insert the children not yet recorded; returns the ids inserted (None: not known)."""
    shared = {"launched_by": TaskLaunch.LaunchedBy.FANOUT, "parent_id": parent_task_id}
    if connection.vendor == "postgresql":
        return _insert_postgresql(TaskLaunch(task_type=children[0].task_type, **shared), children)
    records = [TaskLaunch(**shared, **child._asdict()) for child in children]
    TaskLaunch.objects.bulk_create(records, ignore_conflicts=True)
    return None


def _insert_postgresql(prototype: TaskLaunch, children: list[Child]) -> set[str]:
    # One INSERT ... SELECT FROM unnest(arrays): bulk_create prepares every field of every row
    # in Python (about three times this statement's whole cost); here only the varying columns
    # are per child, the rest is bound once from a record holding what the batch shares.
    fields = [field for field in TaskLaunch._meta.concrete_fields if field.name not in VARYING]
    shared: list[Any] = [
        field.get_db_prep_save(field.pre_save(prototype, add=True), connection) for field in fields
    ]
    arrays: list[Any] = [
        [child.task_id for child in children],
        [json.dumps(child.params) for child in children],
        [child.subject_id for child in children],
        [timezone.now() for _ in children],  # as bulk_create stamps them: in the batch's order
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql([cast(str, field.column) for field in fields]), [*shared, *arrays])
        return {row[0] for row in cursor.fetchall()}


def _insert_sql(shared_columns: list[str]) -> str:
    columns = ", ".join(connection.ops.quote_name(column) for column in (*VARYING, *shared_columns))
    return (
        f"INSERT INTO {connection.ops.quote_name(TaskLaunch._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model; values are parameters)
        f"SELECT u.*, {', '.join(['%s'] * len(shared_columns))} "
        "FROM unnest(%s::varchar[], %s::jsonb[], %s::uuid[], %s::timestamptz[]) AS u "
        "ON CONFLICT (task_id) DO NOTHING RETURNING task_id"
    )


def _revocation(parent_task_id: str) -> dict:
    """The parent's revocation (when, by whom); none for a parent with no record."""
    fields = ("revoke_requested_at", "revoked_by_id")
    found = TaskLaunch.objects.filter(task_id=parent_task_id).values(*fields).first()
    return found or dict.fromkeys(fields)


def _unpublished(children: list[Child], new_ids: set[str] | None) -> list[Child]:
    """The batch's children still to publish: those just recorded, and those an earlier delivery
    recorded but did not publish (only a batch with such children reads them back)."""
    if new_ids is not None and len(new_ids) == len(children):
        return children
    ids = [child.task_id for child in children]
    waiting = TaskLaunch.objects.filter(Q(enqueued__isnull=True) | Q(enqueued=False), task_id__in=ids)
    found = set(waiting.filter(revoke_requested_at__isnull=True).values_list("task_id", flat=True))
    return [child for child in children if child.task_id in found]


def _chunks(items: Sequence[dict], size: int) -> Iterable[Sequence[dict]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
