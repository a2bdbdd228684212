"""The whole benchmark: set up, alternating rounds against Flower, growth, the other benchmark
modules, then the report. Round n runs ours first when n is odd (1, 3, ...), Flower first otherwise.

Flower runs only during its own phases: it switches the worker's events on when it starts, and
they are switched off again when it stops, so ours run as production does (events off).
"""

import importlib
import os
import shutil
import time
import traceback

import django
import redis

from benchmarks.plan import Plan
from benchmarks.progress import say

OTHER_MODULES = ("benchmarks.upsert", "benchmarks.fanout_dispatch")


def bench_run(*, plan: Plan, redis_url: str, client_choice: str) -> int:
    """Run everything `plan` says; 0 when every part ran (targets met or not), 1 otherwise."""
    django.setup()
    from django.core.management import call_command

    from benchmarks.client import client_name

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    redis.Redis.from_url(redis_url).flushdb()
    client = client_name(client_choice)
    say(f"Benchmark: {plan.rounds} round(s), {client} client, Redis {redis_url}")
    results = _measure_stack(plan, client, redis_url)
    failures = _other_modules(plan, results)
    results["machine"]["seconds"] = round(time.perf_counter() - started, 1)
    _report(results)
    return 1 if failures else 0


def _measure_stack(plan: Plan, client: str, redis_url: str) -> dict:
    from django.conf import settings

    from benchmarks.rounds import Bench
    from benchmarks.stack import Stack

    logs = settings.VAR_DIR / "bench" / "logs"  # the last run's: gunicorn's, the worker's, Flower's
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    stack = Stack(env=_env(redis_url), logs=logs)
    try:
        bench = Bench.start(stack=stack, plan=plan, client=client)
        return bench.run()
    finally:
        stack.stop()


def _env(redis_url: str) -> dict[str, str]:
    from django.conf import settings

    from benchmarks.stack import stack_env

    return stack_env(
        database_url=os.environ["DATABASE_URL"],
        redis_url=redis_url,
        secret_key=settings.SECRET_KEY,
        credentials_key=settings.SII_CREDENTIALS_KEY,
    )


def _other_modules(plan: Plan, results: dict) -> list[str]:
    """Rows and growth tables of the upsert and fan-out benchmarks, when those modules exist."""
    failures = []
    for name in OTHER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            say(f"Note: {name} is not there; its rows are skipped")
            continue
        say(f"{name}.measure(smoke={plan.smoke})")
        try:
            measured = module.measure(smoke=plan.smoke)
        except Exception:
            traceback.print_exc()
            failures.append(name)
            continue
        results["rows"] += measured.get("rows", [])
        results["growth"] += measured.get("growth", [])
    results["failed_modules"] = failures
    return failures


def _report(results: dict) -> None:
    from django.conf import settings

    from benchmarks.report import report_print, report_write

    report_print(results)
    json_path, png_path = report_write(results, settings.VAR_DIR / "bench")
    say(f"Wrote {json_path} and {png_path}")
