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

from django.db.models import Q

from tasks_api.models import TaskLaunch
from tasks_api.registry import catalog
from tasks_api.services.launches import TaskRevoked, launches_publish

CHILD_NAMESPACE = uuid.UUID("5b3c1d2e-8f4a-4c6b-9d0e-7a1f2b3c4d5e")


def child_task_id(*, parent_task_id: str, params: dict) -> str:
    """The same child of the same parent always gets the same id."""
    return str(uuid.uuid5(CHILD_NAMESPACE, f"{parent_task_id}:{json.dumps(params, sort_keys=True)}"))


def task_launch_children(
    *, parent_task_id: str, task_type: str, params_list: Sequence[dict], batch_size: int
) -> int:
    """Record and publish one child task per params, in batches: four statements and one broker
    connection per batch, never a query per child. Raises TaskRevoked when the parent is
    revoked, TaskLaunchFailed when the broker refuses. Returns how many children were dispatched
    (published by this delivery or an earlier one)."""
    dispatched = 0
    for batch in _chunks(params_list, batch_size):
        ids = _record(parent_task_id, task_type, batch)
        revocation = _revocation(parent_task_id)  # read after the insert: see task_revoke's order
        if revocation["revoke_requested_at"]:
            _born_revoked(ids, revocation)
            raise TaskRevoked()
        launches_publish(launches=list(_unpublished(ids)))
        dispatched += len(ids)
    return dispatched


def _record(parent_task_id: str, task_type: str, batch: Sequence[dict]) -> list[str]:
    known = catalog().get(task_type)
    children = [
        TaskLaunch(
            task_id=child_task_id(parent_task_id=parent_task_id, params=params),
            task_type=task_type,
            params=params,
            subject_id=known.subject_of(params) if known else None,
            launched_by=TaskLaunch.LaunchedBy.FANOUT,
            parent_id=parent_task_id,
        )
        for params in batch
    ]
    TaskLaunch.objects.bulk_create(children, ignore_conflicts=True)
    return [child.task_id for child in children]


def _revocation(parent_task_id: str) -> dict:
    """The parent's revocation (when, by whom); none for a parent with no record."""
    fields = ("revoke_requested_at", "revoked_by_id")
    found = TaskLaunch.objects.filter(task_id=parent_task_id).values(*fields).first()
    return found or dict.fromkeys(fields)


def _born_revoked(ids: list[str], revocation: dict) -> None:
    """The batch's unpublished children carry the parent's revocation: they will never run."""
    unpublished = TaskLaunch.objects.filter(task_id__in=ids, revoke_requested_at__isnull=True)
    unpublished.exclude(enqueued=True).update(**revocation)


def _unpublished(ids: list[str]) -> Iterable[TaskLaunch]:
    return TaskLaunch.objects.filter(Q(enqueued__isnull=True) | Q(enqueued=False), task_id__in=ids).filter(
        revoke_requested_at__isnull=True
    )


def _chunks(items: Sequence[dict], size: int) -> Iterable[Sequence[dict]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
