"""Benchmark: the project's rows_upsert beside a raw COPY + one merge, on the same rows and table.

`python -m benchmarks.upsert [--smoke]` with DATABASE_URL pointing at a PostgreSQL server uses its
own database (sii_tasks_bench_upsert), created and dropped again, and prints the figures; the bench
harness imports `measure`. Each side starts every round from an empty table, the sides alternate
which goes first, and each round times three passes over the same purchase rows: all new, all
changed, and unchanged. The reference is what the issue measured PostgreSQL allows: COPY into a
temporary table, then one INSERT ... SELECT ... ON CONFLICT DO UPDATE (skipping equal rows, as
ours does, so that both write the same); it counts nothing.
"""

import statistics
import sys
import time
from collections.abc import Callable

from benchmarks.database import bench_database_drop, bench_database_use
from benchmarks.rows import purchase_rows

BENCH_DATABASE = "sii_tasks_bench_upsert"
ROWS, SMOKE_ROWS = 20_000, 1_000
ROUNDS = 3
GROWTH_SIZES, SMOKE_GROWTH_SIZES = (1_000, 10_000, 100_000), (1_000,)
PASSES = ("insert", "all changed", "unchanged")
TABLE = "sii_purchasedocument"
KEY = ("company_id", "tipo_doc", "counterparty_rut", "folio")
REFERENCE_NAME = "COPY + one merge (raw psycopg)"

Upsert = Callable[[object, list[dict]], None]


def measure(*, smoke: bool) -> dict:
    """Rows/s of ours and of the reference per pass, and of both by batch size (the insert pass)."""
    count, rounds = (SMOKE_ROWS, 1) if smoke else (ROWS, ROUNDS)
    sides: dict[str, Upsert] = {"ours": _ours, "reference": _reference}
    values: dict[str, dict[str, list[float]]] = {p: {"ours": [], "reference": []} for p in PASSES}
    for number in range(rounds):
        for side in sorted(sides, reverse=number % 2 == 1):
            for name, speed in _passes(sides[side], count).items():
                values[name][side].append(speed)
    growth = [_growth_point(size, sides) for size in (SMOKE_GROWTH_SIZES if smoke else GROWTH_SIZES)]
    return {"rows": [_row(name, count, values[name]) for name in PASSES], "growth": [_growth(growth)]}


def _passes(upsert: Upsert, count: int) -> dict[str, float]:
    company, changed = _fresh_company(), purchase_rows(count, bump=1)
    return {
        "insert": _rows_per_second(upsert, company, purchase_rows(count)),
        "all changed": _rows_per_second(upsert, company, changed),
        "unchanged": _rows_per_second(upsert, company, changed),
    }


def _growth_point(size: int, sides: dict[str, Upsert]) -> dict:
    point: dict = {"x": size}
    for side, upsert in sides.items():
        point[side] = _rows_per_second(upsert, _fresh_company(), purchase_rows(size))
    return point


def _rows_per_second(upsert: Upsert, company, rows: list[dict]) -> float:
    started = time.perf_counter()
    upsert(company, rows)
    return len(rows) / (time.perf_counter() - started)


def _fresh_company():
    """A new company on an empty table, so that every side and round does the same work."""
    from django.db import connection

    from sii.models import Company
    from sii.rut import check_digit
    from sii.services.companies import company_create

    with connection.cursor() as cursor:
        if connection.in_atomic_block:  # e.g. a test's: TRUNCATE waits for no deferred FK check
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {TABLE}")
    body = 77_000_000 + Company.objects.count()
    return company_create(name="Bench upsert SpA", rut=f"{body}-{check_digit(body)}", subscribed=False)


def _ours(company, rows: list[dict]) -> None:
    from sii.models import PurchaseDocument
    from sii.services.documents import DOCUMENT_KEY
    from sii.services.upserts import rows_upsert

    rows_upsert(model=PurchaseDocument, company=company, rows=rows, key_fields=DOCUMENT_KEY)


def _reference(company, rows: list[dict]) -> None:
    """COPY into a temporary table, then one merge, on Django's psycopg connection."""
    from django.db import connection
    from psycopg.types.json import Jsonb

    connection.ensure_connection()
    columns = list(rows[0])
    with connection.connection.transaction(), connection.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT {', '.join(columns)} FROM {TABLE} WITH NO DATA"
        )
        with cursor.copy(f"COPY stage ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Jsonb(row[c]) if c == "raw" else row[c] for c in columns])
        cursor.execute(_reference_merge(columns), [company.pk])
        cursor.execute("DROP TABLE stage")  # at once: inside a caller's transaction, commit is later


def _reference_merge(columns: list[str]) -> str:
    changing = [c for c in columns if c not in KEY]
    return f"""
        INSERT INTO {TABLE} AS stored ({", ".join(columns)}, company_id, first_synced_at, changed_at)
        SELECT {", ".join(columns)}, %s, now(), now() FROM stage
        ON CONFLICT ({", ".join(KEY)}) DO UPDATE
        SET {", ".join(f"{c} = EXCLUDED.{c}" for c in [*changing, "changed_at"])}
        WHERE ({", ".join(f"stored.{c}" for c in changing)})
              IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in changing)})
    """


def _row(name: str, count: int, values: dict[str, list[float]]) -> dict:
    return {
        "row": f"Upsert {count:,} purchase rows ({name})",
        "unit": "rows/s",
        "higher_is_better": True,
        "ours": values["ours"],
        "reference": values["reference"],
        "reference_name": REFERENCE_NAME,
        "target": "ours >= 0.5 x reference",
        "target_ratio": 0.5,
    }


def _growth(points: list[dict]) -> dict:
    return {"table": "Upsert by batch size", "x_name": "rows", "unit": "rows/s", "points": points}


def main() -> None:
    import django
    from django.core.management import call_command
    from django.db import connections

    bench_database_use(name=BENCH_DATABASE)
    django.setup()
    call_command("migrate", verbosity=0)
    figures = measure(smoke="--smoke" in sys.argv)
    connections.close_all()
    bench_database_drop(name=BENCH_DATABASE)
    for row in figures["rows"]:
        ours, reference = statistics.median(row["ours"]), statistics.median(row["reference"])
        print(
            f"{row['row']:<44} ours {ours:>9,.0f}  reference {reference:>9,.0f}  ratio {ours / reference:.2f}"
        )
    for point in figures["growth"][0]["points"]:
        print(
            f"{point['x']:>7,} rows: ours {point['ours']:>9,.0f}  reference {point['reference']:>9,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
