"""`python -m benchmarks [--smoke]`: this API beside Flower on the production shape, in one command.

Needs DATABASE_URL (a PostgreSQL server: the benchmark makes its own database there and drops it
at the end) and REDIS_URL (its database number is flushed: never 6379's db 0). Prints one table,
writes VAR_DIR/bench/results.json and results.png. It asserts nothing; `make bench` runs it.
"""

import argparse
import dataclasses
import os
import signal
import sys
from urllib.parse import urlsplit

from benchmarks.plan import FULL, SMOKE


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="one round, short phases, smallest sizes")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 3; 1 with --smoke)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="HTTP load client: wrk when installed (auto), or the Python one")  # fmt: skip
    parser.add_argument("--database", default="sii_tasks_bench", help="the throwaway database's name")
    parser.add_argument("--keep-database", action="store_true", help="leave the database for a look")
    return parser.parse_args(argv)


def redis_url_checked() -> str:
    url = os.environ.get("REDIS_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise SystemExit(
            "REDIS_URL must name a Redis database (the benchmark flushes it), e.g. redis://127.0.0.1:6379/14"
        )
    if (parts.port or 6379) == 6379 and parts.path.strip("/") in ("", "0"):
        raise SystemExit("REDIS_URL is 6379's db 0: the benchmark flushes its database; name another one")
    return url


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    plan = SMOKE if options.smoke else FULL
    if options.rounds:
        plan = dataclasses.replace(plan, rounds=options.rounds)
    redis_url = redis_url_checked()
    # A plain `kill` stops the stack too: SystemExit runs the clean-up that Ctrl-C runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from benchmarks.database import bench_database_drop, bench_database_use

    # This process publishes and reads results as the stack does: the same settings and broker.
    os.environ.update({"DJANGO_SETTINGS_MODULE": "benchmarks.settings", "CELERY_BROKER_URL": redis_url})
    bench_database_use(name=options.database)
    try:
        from benchmarks.runner import bench_run

        return bench_run(plan=plan, redis_url=redis_url, client_choice=options.client)
    finally:
        if not options.keep_database:
            from django.db import connections

            connections.close_all()
            bench_database_drop(name=options.database)


if __name__ == "__main__":
    sys.exit(main())
