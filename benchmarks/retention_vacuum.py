"""Autovacuum, played by the retention benchmark on a server that has it off (as the test server does)."""

import time

# autovacuum_naptime's default: how often autovacuum looks at the tables.
NAPTIME = 60.0
# Autovacuum's own thresholds (PostgreSQL's defaults) and its cost-based throttling.
_DUE = """
    SELECT stats.relname, stats.n_dead_tup > 50 + 0.2 * greatest(class.reltuples, 0)
    FROM pg_stat_user_tables AS stats JOIN pg_class AS class ON class.oid = stats.relid
    WHERE stats.relname = ANY(%s) AND (stats.n_dead_tup > 50 + 0.2 * greatest(class.reltuples, 0)
        OR stats.n_mod_since_analyze > 50 + 0.1 * greatest(class.reltuples, 0))
"""
_THROTTLE = """
    SELECT set_config('vacuum_cost_delay', current_setting('autovacuum_vacuum_cost_delay'), false),
        set_config('vacuum_cost_limit', CASE current_setting('autovacuum_vacuum_cost_limit')
            WHEN '-1' THEN current_setting('vacuum_cost_limit')
            ELSE current_setting('autovacuum_vacuum_cost_limit') END, false)
"""


def autovacuum_is_on() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0] == "on"


def autovacuum_play(tables: list[str], stop, done) -> None:
    """Every NAPTIME until `stop`: VACUUM ANALYZE each of `tables` with more dead rows than
    autovacuum allows, ANALYZE one changed enough, throttled as autovacuum is; then put what it
    ran, (table, statement, wall-clock start, seconds), on the `done` queue."""
    import django

    django.setup()
    from django.db import connection

    ran: list[tuple[str, str, float, float]] = []
    with connection.cursor() as cursor:
        cursor.execute(_THROTTLE)
        while True:  # a first look at once: a broken one shows in the smoke run too
            cursor.execute(_DUE, [tables])
            for table, vacuum in cursor.fetchall():
                statement = f"VACUUM ANALYZE {table}" if vacuum else f"ANALYZE {table}"
                started, clock = time.time(), time.perf_counter()
                cursor.execute(statement)
                ran.append((table, statement.split()[0], started, time.perf_counter() - clock))
            if stop.wait(NAPTIME):
                break
    done.put(ran)
