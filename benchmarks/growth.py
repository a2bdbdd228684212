"""How status grows with the table: status p50 with 10^4, 10^5 and 10^6 launch records.

Records (each with its SUCCESS result) are inserted in one statement per step with
generate_series, then VACUUM ANALYZE (as autovacuum would after a bulk load); the status asked for
is one of the inserted runs, halfway through them.
"""

import hashlib
import time
import uuid

from django.db import connection

from benchmarks.client import Request, load_run

_INSERT = """
    WITH launches AS (
        INSERT INTO tasks_api_tasklaunch
            (task_id, task_type, params, launched_by, periodic_task_name, created_at, enqueued,
             enqueue_error, terminate_requested, retries, claimed_by, deliveries, lost_deliveries,
             published_at, status, started_at, finished_at, error)
        SELECT md5('bench-growth-' || n)::uuid::text, 'bench.noop', '{}'::jsonb, 'user', '',
            now() - n * interval '1 second', true, '', false, 0, '', 1, 0, now() - n * interval '1 second',
            'SUCCESS', now() - n * interval '1 second', now() - n * interval '1 second' + interval '1 second', ''
        FROM generate_series(%(first)s, %(last)s) AS n
        RETURNING task_id, created_at
    )
    INSERT INTO django_celery_results_taskresult
        (task_id, status, content_type, content_encoding, result, meta, task_name, date_created, date_done)
    SELECT task_id, 'SUCCESS', 'application/json', 'utf-8', '{"ok": true}', '{"children": []}',
        'bench.noop', created_at, created_at + interval '1 second'
    FROM launches
"""


def growth_run_id(n: int) -> str:
    """The task id of the n-th inserted run (as the SQL above computes it)."""
    return str(uuid.UUID(hashlib.md5(f"bench-growth-{n}".encode(), usedforsecurity=False).hexdigest()))


def growth_fill(*, have: int, want: int) -> float:
    """Insert runs have+1..want; seconds it took."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, {"first": have + 1, "last": want})
        cursor.execute("VACUUM ANALYZE tasks_api_tasklaunch")
        cursor.execute("VACUUM ANALYZE django_celery_results_taskresult")
    return time.perf_counter() - started


def status_growth(
    *, status: Request, sizes: tuple[int, ...], seconds: float, client: str
) -> tuple[dict, dict]:
    """The growth table of status p50, and the raw figures (fill times, requests) per size."""
    points, raw, have = [], {}, 0
    for size in sizes:
        fill_seconds = growth_fill(have=have, want=size)
        have = size
        url = status.url.rsplit("/", 1)[0] + f"/{growth_run_id(size // 2)}"
        load = load_run(Request(url, status.method, status.body, status.headers), connections=1,
                        seconds=seconds, client=client)  # fmt: skip
        if load.errors or not load.requests:
            raise RuntimeError(f"GET {url}: {load.errors} of {load.requests} requests failed")
        points.append({"x": size, "ours": load.median_ms, "reference": None})
        raw[str(size)] = {"fill_seconds": fill_seconds, **load.__dict__}
    table = {"table": "Status p50 by launch records in the table", "x_name": "launch records", "unit": "ms",
             "points": points}  # fmt: skip
    return table, raw
