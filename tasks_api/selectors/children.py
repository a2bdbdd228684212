"""A fan-out parent's children for the console: counts by state in one query, pages in SQL."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.states import STATUSES

CHILDREN_PER_PAGE = 25


def children_status_counts(*, parent_task_id: str) -> dict[str, int]:
    """How many of the parent's children are in each stored state (every state named, zeros
    too): one grouped query on the (parent, status) index, whatever the number of children."""
    counts = dict.fromkeys(STATUSES, 0)
    grouped = TaskLaunch.objects.filter(parent_id=parent_task_id).order_by().values_list("status")
    counts.update(grouped.annotate(count=Count("pk")))
    return counts


def children_last_finished_at(*, parent_task_id: str) -> datetime | None:
    """When the parent's last child finished (a family's end, once none is unfinished)."""
    children = TaskLaunch.objects.filter(parent_id=parent_task_id)
    return children.aggregate(last=Max("finished_at"))["last"]


def _page_ids(parent_task_id: str, status: str, start: int) -> list[str]:
    """The task ids of one page, oldest first, sliced in SQL."""
    children = TaskLaunch.objects.filter(parent_id=parent_task_id).order_by("created_at", "task_id")
    if status:
        children = children.filter(status=status)
    return list(children.values_list("task_id", flat=True)[start : start + CHILDREN_PER_PAGE])


@dataclass(frozen=True)
class ChildrenPage:
    rows: list
    number: int  # 1-based
    pages: int
    total: int  # children matching the filter


def children_page(*, runs: QuerySet, parent_task_id: str, status: str, page: int, total: int) -> ChildrenPage:
    """One page of the children (oldest first), with their stored result for the error column.

    `total` is how many match `status` (from children_status_counts), so no COUNT is run here;
    two queries.
    """
    pages = max(1, -(-total // CHILDREN_PER_PAGE))
    number = min(max(page, 1), pages)
    ids = _page_ids(parent_task_id, status, (number - 1) * CHILDREN_PER_PAGE)
    found = {run.task_id: run for run in with_stored_result(runs.filter(task_id__in=ids))}
    return ChildrenPage(rows=[found[i] for i in ids if i in found], number=number, pages=pages, total=total)


def with_stored_result(runs: QuerySet) -> QuerySet:
    """The runs with their stored result's payload and traceback (for pages, not long lists)."""
    stored = TaskResult.objects.filter(task_id=OuterRef("task_id"))
    return runs.annotate(
        stored_result=Subquery(stored.values("result")[:1]),
        stored_traceback=Subquery(stored.values("traceback")[:1]),
    )


def runs_by_ids(*, runs: QuerySet, task_ids: list[str]) -> list[TaskLaunch]:
    """The given runs as the list shows them: one query."""
    return list(runs.filter(task_id__in=task_ids))
