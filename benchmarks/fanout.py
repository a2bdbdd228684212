"""Benchmark: upsert throughput, an all-companies sync over N companies, API latencies.

Run with `make bench` (PostgreSQL + Redis). It reports figures; it asserts nothing.
Uses its own database (sii_tasks_bench), dropped and re-created on every run.
"""

import argparse
import sys
import time

import django

from benchmarks.database import bench_database_use

BENCH_DATABASE = "sii_tasks_bench"


def main() -> None:
    options = _arguments()
    _use_bench_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    upsert_rows_per_second(options.rows)
    fan_out(options.companies)
    api_latency()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=20_000)
    return parser.parse_args()


def _use_bench_database() -> None:
    bench_database_use(name=BENCH_DATABASE)


def upsert_rows_per_second(count: int) -> None:
    from benchmarks.rows import purchase_rows
    from sii.models import PurchaseDocument
    from sii.services.companies import company_create
    from sii.services.documents import DOCUMENT_KEY
    from sii.services.upserts import rows_upsert

    company = company_create(name="Bench upsert SpA", rut="76.086.428-5", sii_password="x", subscribed=False)
    rows = purchase_rows(count)
    for label, batch in (
        ("insert", rows),
        ("unchanged", rows),
        ("all changed", purchase_rows(count, bump=1)),
    ):
        started = time.perf_counter()
        counts = rows_upsert(model=PurchaseDocument, company=company, rows=batch, key_fields=DOCUMENT_KEY)
        elapsed = time.perf_counter() - started
        print(
            f"upsert {label:<12} {count:>7} rows in {elapsed:6.2f} s = {count / elapsed:>9,.0f} rows/s  {counts}"
        )


def fan_out(companies: int) -> None:
    from benchmarks.fleet import run_fleet

    report = run_fleet(companies)
    for name, value in report.items():
        print(f"{name:<34} {value}")


def api_latency() -> None:
    from benchmarks.api import run_api_latency

    for name, value in run_api_latency().items():
        print(f"{name:<34} {value}")


if __name__ == "__main__":
    sys.exit(main())
