"""A fan-out parent's children for the console: counts by state in one query, pages in SQL."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.states import STATUSES, run_status

CHILDREN_PER_PAGE = 25


def children_status_counts(*, parent_task_id: str) -> dict[str, int]:
    """How many of the parent's children are in each state (every state named, zeros too).

    One query: the children joined with their results, grouped by what decides the state, which
    states.run_status then names (a handful of groups, whatever the number of children).
    """
    counts = dict.fromkeys(STATUSES, 0)
    for *decisive, count in _joined(
        parent_task_id, "r.status, l.enqueued, {revoked}, COUNT(*)", "GROUP BY 1, 2, 3"
    ):
        status = _state(*decisive)
        counts[status] = counts.get(status, 0) + count
    return counts


def _joined(parent_task_id: str, columns: str, tail: str) -> list[tuple]:
    """`columns` of the parent's children joined with their results (l: launch, r: result).

    A join, which the ORM cannot write between these unrelated tables: a subquery per child
    costs ten times more at 10,000 children. Only fixed table and column names are interpolated.
    """
    quote = connection.ops.quote_name
    launches, results = quote(TaskLaunch._meta.db_table), quote(TaskResult._meta.db_table)
    columns = columns.format(revoked="l.revoke_requested_at IS NOT NULL")
    sql = (
        f"SELECT {columns} FROM {launches} l LEFT JOIN {results} r ON r.task_id = l.task_id "  # noqa: S608
        f"WHERE l.parent_id = %s {tail}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [parent_task_id])
        return cursor.fetchall()


def _state(stored: str | None, enqueued, revoke_requested) -> str:
    # SQLite answers booleans as 0 / 1.
    enqueued = None if enqueued is None else bool(enqueued)
    return run_status(stored=stored, enqueued=enqueued, revoke_requested=bool(revoke_requested))


def _page_ids(parent_task_id: str, status: str, start: int) -> list[str]:
    """The task ids of one page: sliced in SQL when unfiltered, else picked from the join by state."""
    if not status:
        children = TaskLaunch.objects.filter(parent_id=parent_task_id).order_by("created_at", "task_id")
        return list(children.values_list("task_id", flat=True)[start : start + CHILDREN_PER_PAGE])
    rows = _joined(
        parent_task_id, "l.task_id, r.status, l.enqueued, {revoked}", "ORDER BY l.created_at, l.task_id"
    )
    matching = [task_id for task_id, *decisive in rows if _state(*decisive) == status]
    return matching[start : start + CHILDREN_PER_PAGE]


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
