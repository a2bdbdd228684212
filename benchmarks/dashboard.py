"""Benchmark: the admin dashboard's queries and time over 100,000 task runs (PostgreSQL).

`python -m benchmarks.dashboard` with DATABASE_URL pointing at a PostgreSQL server; it uses its own
database (sii_tasks_bench_dashboard), dropped and re-created on every run. Two spreads of the same
100,000 runs: over 30 days (about 3,300 in the dashboard's 24 hours) and all within the 24 hours.
It reports figures; it asserts nothing. The worker stats are read from the shared cache, where
workers push them (none here): no broadcast is part of the figures.
"""

import os
import statistics
import sys
import time

import django

from benchmarks.database import bench_database_use

BENCH_DATABASE = "sii_tasks_bench_dashboard"
RUNS = 100_000
ROUNDS = 10


def main() -> None:
    _use_bench_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    for days in (30, 1):
        _fill(runs=RUNS, seconds=days * 86_400)
        print(f"{RUNS:,} runs over {days} day(s):", _measure(), flush=True)


def _use_bench_database() -> None:
    bench_database_use(name=BENCH_DATABASE)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    sys.path.insert(0, os.getcwd())


def _fill(*, runs: int, seconds: int) -> None:
    """`runs` launches spread evenly over the last `seconds`, each with a result: mostly SUCCESS,
    some FAILURE and REVOKED, 20 running, the newest 100 still waiting."""
    from django.db import connection
    from django_celery_results.models import TaskResult

    from tasks_api.models import TaskLaunch

    TaskResult.objects.all().delete()
    TaskLaunch.objects.all().delete()
    types = ("sii.sync_documents", "sii.sync_f29", "sii.sync_documents_all_companies")
    TaskLaunch.objects.bulk_create(
        (TaskLaunch(task_type=types[i % 3], launched_by="user", enqueued=True) for i in range(runs)),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute(_SPREAD, [seconds / runs])
        cursor.execute(_RESULTS)
        cursor.execute(_STATES)
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would, after the bulk load


_SPREAD = """
    UPDATE tasks_api_tasklaunch AS launch SET created_at = now() - numbered.n * %s * interval '1 second'
    FROM (SELECT task_id, row_number() OVER (ORDER BY task_id) AS n FROM tasks_api_tasklaunch) AS numbered
    WHERE numbered.task_id = launch.task_id
"""
_RESULTS = """
    INSERT INTO django_celery_results_taskresult
        (task_id, status, result, date_created, date_done, content_type, content_encoding, task_name)
    SELECT task_id,
        CASE WHEN n <= 20 THEN 'STARTED' WHEN n % 50 = 0 THEN 'FAILURE' WHEN n % 97 = 0 THEN 'REVOKED'
             ELSE 'SUCCESS' END,
        CASE WHEN n <= 20 THEN '{"current": 2, "total": 9, "step": "compras 202611"}' ELSE 'null' END,
        created_at + interval '1 second', created_at + (1 + n % 40) * interval '1 second',
        'application/json', 'utf-8', task_type
    FROM (SELECT *, row_number() OVER (ORDER BY created_at DESC) - 100 AS n FROM tasks_api_tasklaunch) AS launches
    WHERE n > 0
"""
_STATES = """
    UPDATE tasks_api_tasklaunch AS launch SET status = result.status, started_at = result.date_created,
        finished_at = CASE WHEN result.status = 'STARTED' THEN NULL ELSE result.date_done END
    FROM django_celery_results_taskresult AS result WHERE result.task_id = launch.task_id
"""


def _measure() -> dict[str, str]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    user, _ = get_user_model().objects.get_or_create(username="bench", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    plain = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    figures = {}
    with override_settings(
        STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, **plain}
    ):
        for name, url in (("dashboard", "/admin/"), ("live part", "/admin/dashboard/live/")):
            timings, queries = [], []
            for _ in range(ROUNDS):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    assert client.get(url).status_code in (200, 286)
                    timings.append(time.perf_counter() - started)
                queries.append(captured.captured_queries)
            slowest = max(float(query["time"]) for query in queries[-1])
            figures[name] = (
                f"{len(queries[-1])} queries, median {statistics.median(timings) * 1000:.0f} ms "
                f"(slowest query {slowest * 1000:.0f} ms)"
            )
    return figures


if __name__ == "__main__":
    main()
