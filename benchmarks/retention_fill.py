"""The retention benchmark's history of nightly fan-outs, written by SQL (INSERT … SELECT), not the ORM."""

from dataclasses import dataclass
from datetime import datetime

TABLES = ("tasks_api_tasklaunch", "tasks_api_runattempt", "django_celery_results_taskresult")


@dataclass(frozen=True)
class Shape:
    """`nights` nights x two task types x `companies` slots: slot 0 is the night's fan-out parent,
    the others its children, one company per slot (the night's one left over rotates); a slot in
    a hundred is instead a user's relaunch of the slot before (a failure), eight hours later; one
    company in a hundred stops syncing at `churn_night` (a newcomer takes its slots from then on)."""

    companies: int
    nights: int
    retention_days: int

    @property
    def runs(self) -> int:
        return self.nights * 2 * self.companies

    @property
    def churn_night(self) -> int:
        return (self.nights - self.retention_days) // 2


def history_fill(cursor, *, shape: Shape, now: datetime) -> None:
    """Write every run, one attempt and one result each; the tables' indexes and constraints are
    built after the rows (as a bulk load does), then VACUUM ANALYZE, as autovacuum would."""
    cursor.execute("SET maintenance_work_mem = '1GB'")
    cursor.execute("SET synchronous_commit = off")
    rebuilds = _schema_drop(cursor)
    cursor.execute(_RUNS, {**vars(shape), "churn_night": shape.churn_night, "now": now})
    cursor.execute(_ATTEMPTS)
    cursor.execute(_RESULTS)
    for statement in rebuilds:
        cursor.execute(statement)
    for table in TABLES:
        cursor.execute(f"VACUUM ANALYZE {table}")


def _schema_drop(cursor) -> list[str]:
    """Drop the tables' indexes and key constraints (and the foreign keys to them); the
    statements that build them again, in an order that works (indexes, keys, foreign keys)."""
    cursor.execute(_SCHEMA, [list(TABLES)])
    rows = cursor.fetchall()
    for _, table, name, _ in reversed(rows):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' if table else f'DROP INDEX "{name}"')
    return [statement for _, _, _, statement in rows]


# (step, table for a constraint, name, the statement that builds it again)
_SCHEMA = """
    WITH filled AS (SELECT oid FROM pg_class WHERE relname = ANY(%s))
    SELECT 1, NULL, index.relname, pg_get_indexdef(index.oid)
    FROM pg_index JOIN pg_class AS index ON index.oid = pg_index.indexrelid
    WHERE pg_index.indrelid IN (SELECT oid FROM filled) AND NOT EXISTS (
        SELECT FROM pg_constraint WHERE conindid = index.oid AND contype IN ('p', 'u', 'x'))
    UNION ALL
    SELECT CASE contype WHEN 'f' THEN 3 ELSE 2 END, conrelid::regclass::text, conname,
        format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint
    WHERE contype IN ('p', 'u', 'f') AND (conrelid IN (SELECT oid FROM filled) OR confrelid IN (SELECT oid FROM filled))
    ORDER BY 1, 3
"""

# Ids are md5 digests shaped as uuids: as random as uuid4's, and a child can name its parent's.
_RUNS = """
    INSERT INTO tasks_api_tasklaunch (
        task_id, task_type, params, subject_id, launched_by, periodic_task_name, created_at, enqueued,
        enqueue_error, terminate_requested, retries, parent_id, relaunch_of_id, published_at, claimed_by,
        deliveries, lost_deliveries, status, started_at, finished_at, error)
    SELECT id, task_type, params, subject, launched_by, periodic, created, true, '', false, 0, parent,
        relaunch_of, created, '', 1, 0, status, created + started * interval '1 second',
        created + (started + 5 + slot %% 55) * interval '1 second',
        CASE status WHEN 'FAILURE' THEN 'SiiUnavailable: getResumen: HTTP 503 from the SII.' ELSE '' END
    FROM (
        SELECT *, md5(night || ':' || kind || ':' || slot)::uuid::text AS id,
            CASE WHEN slot = 0 THEN NULL ELSE md5('company ' || company)::uuid END AS subject,
            CASE WHEN slot > 0 AND NOT relaunch THEN md5(night || ':' || kind || ':0')::uuid::text END AS parent,
            CASE WHEN relaunch THEN md5(night || ':' || kind || ':' || (slot - 1))::uuid::text END AS relaunch_of,
            CASE WHEN slot = 0 THEN 'beat' WHEN relaunch THEN 'user' ELSE 'fanout' END AS launched_by,
            CASE WHEN slot = 0 THEN 1 WHEN relaunch THEN 5 ELSE slot * 7 %% 3600 END AS started,
            CASE WHEN slot > 0 AND (slot %% 100 = 49 OR (slot + 3 * night) %% 100 = 0) THEN 'FAILURE'
                ELSE 'SUCCESS' END AS status,
            %(now)s - (%(nights)s - night) * interval '1 day' + CASE WHEN relaunch
                THEN interval '8 hours' + slot * interval '1 millisecond'
                ELSE (slot * 2 + kind) * interval '0.5 millisecond' END AS created
        FROM (
            SELECT *, CASE WHEN company_slot %% %(companies)s < %(companies)s / 100 AND night >= %(churn_night)s
                THEN company_slot %% %(companies)s + %(companies)s ELSE company_slot %% %(companies)s END AS company
            FROM (
                SELECT *, CASE WHEN relaunch THEN slot - 1 + night ELSE slot + night END AS company_slot,
                    CASE kind WHEN 0 THEN 'sii.sync_documents' ELSE 'sii.sync_f29' END
                        || CASE WHEN slot = 0 THEN '_all_companies' ELSE '' END AS task_type,
                    CASE WHEN slot > 0 THEN '' WHEN kind = 0 THEN 'sii: sync documents nightly'
                        ELSE 'sii: sync f29 nightly' END AS periodic
                FROM (
                    SELECT i / (2 * %(companies)s) AS night, i / 2 %% %(companies)s AS slot, i %% 2 AS kind,
                        i / 2 %% %(companies)s %% 100 = 50 AS relaunch
                    FROM generate_series(0, %(nights)s * 2 * %(companies)s - 1) AS i
                ) AS slots
            ) AS named
        ) AS companies
    ) AS runs
    CROSS JOIN LATERAL (SELECT CASE
        WHEN slot = 0 AND kind = 0 THEN '{"months": 1, "month_offset": 1}'::jsonb
        WHEN slot = 0 THEN '{"year": "2025"}'::jsonb
        WHEN kind = 0 THEN jsonb_build_object('company_id', subject, 'months', 1, 'month_offset', 1)
        ELSE jsonb_build_object('company_id', subject, 'year', '2025') END AS params) AS built
"""
_ATTEMPTS = """
    INSERT INTO tasks_api_runattempt (number, worker, pid, started_at, ended_at, outcome, error_type,
        error_message, run_id, waiting)
    SELECT 1, 'celery@worker-' || (hashtext(task_id) & 3), 1000 + (hashtext(task_id) & 1023), started_at,
        finished_at, CASE status WHEN 'FAILURE' THEN 'failed' ELSE 'succeeded' END,
        CASE status WHEN 'FAILURE' THEN 'SiiUnavailable' ELSE '' END, error, task_id, ''
    FROM tasks_api_tasklaunch
"""
_RESULTS = """
    INSERT INTO django_celery_results_taskresult (task_id, status, content_type, content_encoding, result,
        date_done, traceback, meta, task_args, task_kwargs, task_name, worker, date_created,
        periodic_task_name, date_started)
    SELECT task_id, status, 'application/json', 'utf-8', CASE
            WHEN status = 'FAILURE' THEN '{"exc_type": "SiiUnavailable", "exc_message": '
                || '["getResumen: HTTP 503 from the SII."], "exc_module": "sii.client.errors"}'
            WHEN parent_id IS NULL AND subject_id IS NULL THEN '{"dispatched": 9999}'
            WHEN task_type = 'sii.sync_documents' THEN '{"success": true, "compras": {"total": 150, '
                || '"period": "202501"}, "ventas": {"total": 89, "period": "202501"}, "honorarios": {"total": 12}}'
            ELSE '{"success": true, "declarations": 12}' END,
        finished_at, CASE status WHEN 'FAILURE' THEN 'Traceback (most recent call last):\n'
            || '  File "/app/sii/tasks.py", line 61, in sync_documents\n'
            || 'sii.client.errors.SiiUnavailable: getResumen: HTTP 503 from the SII.' END,
        '{"children": []}', '[]', params::text, task_type, 'celery@worker-' || (hashtext(task_id) & 3),
        started_at, NULLIF(periodic_task_name, ''), started_at
    FROM tasks_api_tasklaunch
"""
