"""The claim's statements on PostgreSQL, written out: a run's claim costs two statements (the
lock, then tasks_api.runs.transitions.run_claimed) and its release one, where the ORM took six
with a transaction (a worker pays them on every task).

The lock is a session advisory lock on the run's id (see tasks_api.services.claims).
"""

from datetime import datetime
from functools import cache

from django.conf import settings
from django.db import connection

from tasks_api.models import TaskLaunch
from tasks_api.selectors.launches import run_finished_sql
from tasks_api.sql import fetch_one

# The run's lock key, from its id (a statement's placeholder for it goes in the braces).
RUN_LOCK = "hashtextextended({}, 0)"


def run_lock_unless_finished(*, task_id: str) -> tuple[bool, bool]:
    """(finished, locked): whether an earlier attempt finished the run; else whether this
    session now holds the run's lock (False: a live process holds it)."""
    finished, locked = fetch_one(_lock_sql(), [task_id, task_id])  # type: ignore[misc]  # one row always
    return bool(finished), bool(locked)


def run_release(*, task_id: str, holder: str) -> None:
    """Clear this process's claim from the launch record and free the run's lock."""
    fetch_one(_release_sql(), {"task_id": task_id, "holder": holder})


def run_lock_is_held(*, task_id: str, claimed_at: datetime | None = None) -> bool:
    """Whether some session holds the run's lock, read from pg_locks without taking it (taking it
    for a moment would turn a redelivery claiming the run at that moment away).

    A claim written on the row (`claimed_at`) before the server last started counts as held
    until the task's hard time limit has surely passed: a restart drops every advisory lock,
    also those of workers still running their tasks, so the missing lock proves no death."""
    limit = (settings.CELERY_TASK_TIME_LIMIT or 3600) + 60
    held = fetch_one(_held_sql(), {"task_id": task_id, "claimed_at": claimed_at, "limit": limit})
    return bool(held and held[0])


def run_unlock(*, task_id: str) -> None:
    fetch_one(f"SELECT pg_advisory_unlock({RUN_LOCK.format('%s')})", [task_id])


@cache
def _lock_sql() -> str:
    return (
        f"SELECT f.done, CASE WHEN f.done THEN false ELSE pg_try_advisory_lock({RUN_LOCK.format('%s')}) END "  # noqa: S608 (constants; the id is a parameter)
        f"FROM (SELECT EXISTS ({run_finished_sql()}) AS done) AS f"
    )


@cache
def _held_sql() -> str:
    # A bigint advisory key shows in pg_locks as its high and low 32 bits, with objsubid 1.
    return (
        "SELECT EXISTS (SELECT 1 FROM pg_locks, "  # noqa: S608 (constants; values are parameters)
        f"(SELECT {RUN_LOCK.format('%(task_id)s')} AS k) AS run "
        "WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND classid = ((run.k >> 32) & 4294967295)::oid AND objid = (run.k & 4294967295)::oid) "
        "OR COALESCE(%(claimed_at)s < pg_postmaster_start_time() "
        "AND %(claimed_at)s > now() - make_interval(secs => %(limit)s), false)"
    )


@cache
def _release_sql() -> str:
    table = connection.ops.quote_name(TaskLaunch._meta.db_table)
    return (
        f"WITH released AS (UPDATE {table} SET claimed_by = '' "  # noqa: S608 (constants; values are parameters)
        "WHERE task_id = %(task_id)s AND claimed_by = %(holder)s) "
        f"SELECT pg_advisory_unlock({RUN_LOCK.format('%(task_id)s')})"
    )
