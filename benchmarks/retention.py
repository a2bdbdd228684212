"""`python -m benchmarks.retention [--smoke]`: retention (runs_expire) over 10 million runs on PostgreSQL."""

import argparse
import json
import multiprocessing
import os
import resource
import signal
import statistics
import sys
import time
import tracemalloc
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

from benchmarks.database import bench_database_drop, bench_database_use
from benchmarks.progress import say
from benchmarks.retention_fill import TABLES, Shape, history_fill
from benchmarks.retention_probe import PAGES, probe_run
from benchmarks.retention_vacuum import autovacuum_is_on, autovacuum_play

FULL = Shape(companies=10_000, nights=500, retention_days=90)
SMOKE = Shape(companies=100, nights=100, retention_days=90)
# As the reconciler calls it every 30 s: runs_expire's defaults.
BATCH, BUDGET = 1000, 10.0
# tracemalloc slows allocations about fourfold: one pass in TRACE_EVERY runs under it, and the
# timings leave those passes out.
TRACE_EVERY = 20
# Console pages timed before the deletion starts (the status is polled between them).
PAGES_BEFORE = {False: 20, True: 2}


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.retention", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE.runs:,} runs instead of {FULL.runs:,}")
    parser.add_argument("--database", default="sii_tasks_bench_retention", help="the throwaway database")
    parser.add_argument("--keep-database", action="store_true", help="leave the database for a look")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    # A plain `kill` drops the database too: SystemExit runs the clean-up that Ctrl-C runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shape = SMOKE if options.smoke else FULL
    _use_bench_database(options.database, shape)
    try:
        figures = bench_run(shape, pages_before=PAGES_BEFORE[options.smoke])
    finally:
        if not options.keep_database:
            _database_drop(options.database)
    print("\n".join(["", *table_lines(figures), ""]), flush=True)
    say(f"figures written to {_write(figures)}")
    return 0


def _use_bench_database(name: str, shape: Shape) -> None:
    bench_database_use(name=name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["TASKS_API_RETENTION_DAYS"] = str(shape.retention_days)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.pop("DJANGO_DEBUG", None)  # DEBUG keeps every query's text: memory would grow with it
    sys.path.insert(0, os.getcwd())


def _database_drop(name: str) -> None:
    from django.db import connections

    connections.close_all()
    bench_database_drop(name=name)


def bench_run(shape: Shape, *, pages_before: int) -> dict:
    """Fill, look at the plans, delete everything expired while a second process times the
    API's and the console's reads, then look at what is left."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    now = timezone.now()
    cutoff = now - timedelta(days=shape.retention_days)
    figures: dict = {"shape": {**vars(shape), "runs": shape.runs}, "server": _server()}
    figures["fill_seconds"] = _fill(shape, now)
    figures["before"] = tables_measure(cutoff)
    figures["plans"] = {"before": plans_explain(cutoff)}
    with _company(pages_before) as window:
        figures["deletion"] = expire_all(now)
    figures["reads"], figures["vacuums"] = reads_compare(window), window["vacuums"]
    figures["after"] = tables_measure(cutoff)
    figures["plans"]["after"] = plans_explain(cutoff)
    figures["idle_pass_ms"] = idle_pass(now)
    return figures


def _server() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


def _fill(shape: Shape, now: datetime) -> float:
    from django.db import connection

    say(f"filling {shape.runs:,} runs, one attempt and one result each")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        history_fill(cursor, shape=shape, now=now)
    say(f"filled in {time.perf_counter() - started:.0f} s")
    return time.perf_counter() - started


def tables_measure(cutoff: datetime) -> dict:
    """Each table's rows, size on disk (indexes and TOAST included) and autovacuums so far; the
    runs older than the cutoff."""
    from django.db import connection

    figures: dict = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(_TABLE.format(table=table), [table, table])
            figures[table] = dict(zip(("rows", "bytes", "autovacuums"), cursor.fetchone(), strict=True))
        cursor.execute("SELECT count(*) FROM tasks_api_tasklaunch WHERE created_at < %s", [cutoff])
        figures["runs_older_than_cutoff"] = cursor.fetchone()[0]
    return figures


_TABLE = """
    SELECT (SELECT count(*) FROM {table}), pg_total_relation_size(%s),
        (SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = %s)
"""


def plans_explain(cutoff: datetime) -> dict:
    """EXPLAIN ANALYZE of one batch's read of each kind, as runs_expire asks it (it asks for
    orphan results only once no expired run is left)."""
    from tasks_api.services import retention

    return {
        "expired runs": _plan(retention._expired_runs(cutoff)[:BATCH]),
        "orphan results": _plan(retention._orphan_results(cutoff)[:BATCH]),
    }


def _plan(queryset) -> dict:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        lines = [row[0] for row in cursor.fetchall()]
    timing = next(line for line in lines if line.startswith("Execution Time"))
    return {"top": lines[0].strip(), "ms": float(timing.split()[2]), "plan": lines}


@contextmanager
def _company(pages_before: int):
    """What goes on beside the deletion, each in its own process (its allocations, CPU and GIL
    stay out of the deletion's figures): a poller and a console user timing their reads from
    before the deletion to its end and, where the server has it off, autovacuum. Yields the
    window that gets the deletion's start and end, then the reads' samples and the vacuums."""
    context = multiprocessing.get_context("spawn")
    stop, pages_done = context.Event(), context.Value("i", 0)
    probe = _spawn(context, probe_run, _finished_task(), stop, pages_done)
    vacuum = None if autovacuum_is_on() else _spawn(context, autovacuum_play, list(TABLES), stop)
    window: dict = {}
    try:
        _wait_for(lambda: pages_done.value >= pages_before, [probe[0], *(vacuum[:1] if vacuum else [])])
        window["start"] = time.time()
        yield window
        window["end"] = time.time()
    finally:
        stop.set()
        window["samples"] = _collected(*probe)
        window["vacuums"] = _collected(*vacuum) if vacuum else None


def _spawn(context, target, *args) -> tuple:
    """`target(*args, results)` in a new process; the process and its results' queue."""
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results), name=target.__name__)
    process.start()
    return process, results


def _finished_task() -> str:
    """The newest finished sync of one company: what a client polls for."""
    from tasks_api.models import TaskLaunch

    runs = TaskLaunch.objects.filter(task_type="sii.sync_documents", status="SUCCESS")
    return runs.order_by("-created_at").values_list("task_id", flat=True)[0]


def _wait_for(condition, processes: list) -> None:
    while not condition():
        for process in processes:
            if not process.is_alive():
                raise SystemExit(f"the {process.name} process ended (exit code {process.exitcode})")
        time.sleep(0.2)


def _collected(process, results) -> list:
    """What the process put on its queue (read before joining it: a full pipe would block it)."""
    import queue

    while True:
        try:
            collected = results.get(timeout=1)
            process.join()
            return collected
        except queue.Empty:
            if not process.is_alive():
                raise SystemExit(f"the {process.name} process ended (exit code {process.exitcode})") from None


class _BatchClock:
    """Stands in for retention._delete to time each batch as a pass runs it: from the end of the
    previous batch (or the pass's start) to the end of its delete, so its read and its delete."""

    def __init__(self, delete) -> None:
        self.delete, self.mark, self.traced = delete, 0.0, False
        self.batches: list[tuple[float, float, bool]] = []  # (read + delete, delete) seconds, traced

    def __call__(self, task_ids: list[str]) -> int:
        started = time.perf_counter()
        deleted = self.delete(task_ids)
        ended = time.perf_counter()
        self.batches.append((ended - self.mark, ended - started, self.traced))
        self.mark = ended
        return deleted


def expire_all(now: datetime) -> dict:
    """runs_expire as the reconciler calls it, pass after pass until a pass finds nothing: each
    pass's and each batch's time, the process's CPU and memory."""
    from tasks_api.services import retention

    clock, rss_before, cpu_before = _BatchClock(retention._delete), _rss_mb(), _cpu()
    # Patched to time each batch; runs_expire itself runs as the reconciler runs it.
    with mock.patch.object(retention, "_delete", clock):
        passes = _passes(clock, now)
    return {
        "passes": passes, "batches": clock.batches, "cpu_seconds": _cpu() - cpu_before,
        "rss_mb": [rss_before, _rss_mb()],
    }  # fmt: skip


def _passes(clock: _BatchClock, now: datetime) -> list[dict]:
    passes: list[dict] = []
    said = started = time.perf_counter()
    while not passes or passes[-1]["deleted"]:
        passes.append(_pass(clock, now, traced=len(passes) % TRACE_EVERY == 0))
        if time.perf_counter() - said > 60:
            said = time.perf_counter()
            say(
                f"deleted {sum(p['deleted'] for p in passes):,} in {said - started:.0f} s, {len(passes)} passes"
            )
    return passes


def _pass(clock: _BatchClock, now: datetime, *, traced: bool) -> dict:
    """One pass; a traced one under tracemalloc (its peak, and what it still holds at its end)."""
    from tasks_api.services.retention import runs_expire

    if traced:
        tracemalloc.start()
    started = clock.mark = time.perf_counter()
    clock.traced = traced
    deleted = runs_expire(now=now, batch_size=BATCH, budget=BUDGET)
    figures = {"seconds": time.perf_counter() - started, "deleted": deleted, "traced": traced}
    if traced:
        figures["held_mb"], figures["peak_mb"] = (size / 2**20 for size in tracemalloc.get_traced_memory())
        tracemalloc.stop()
    return figures


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reads_compare(window: dict) -> dict:
    """Each read's timings (ms) before the deletion and during it."""
    phases: dict = {name: {"before": [], "during": []} for name in ("status", *PAGES)}
    for started, name, seconds in window["samples"]:
        if started < window["start"]:
            phases[name]["before"].append(seconds * 1000)
        elif started < window["end"]:
            phases[name]["during"].append(seconds * 1000)
    return phases


def idle_pass(now: datetime) -> float:
    """A pass with nothing to delete once autovacuum has been by (median of three, ms): the
    reconciler's cost every 30 s from then on."""
    from django.db import connection

    from tasks_api.services.retention import runs_expire

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        runs_expire(now=now, batch_size=BATCH, budget=BUDGET)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def table_lines(figures: dict) -> list[str]:
    """One Markdown table of every figure, under a line saying what was measured."""
    shape = figures["shape"]
    title = (
        f"Retention over {shape['runs']:,} runs ({shape['companies']:,} companies x 2 task types x "
        f"{shape['nights']} nights, retention {shape['retention_days']} days), {figures['server']}"
    )
    rows = [*_fill_rows(figures), *_deletion_rows(figures), *_memory_rows(figures)]
    rows += [*_read_rows(figures["reads"]), *_after_rows(figures), *_plan_rows(figures["plans"])]
    return [title, "", "| figure | value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def _fill_rows(figures: dict) -> list[tuple[str, str]]:
    before = figures["before"]
    return [
        ("fill: SQL, indexes built after the rows, VACUUM ANALYZE", f"{figures['fill_seconds']:,.0f} s"),
        ("rows before: runs / attempts / results", _each(before, "rows", "{:,}")),
        ("size before (with indexes): runs / attempts / results", _each(before, "bytes", _GB)),
        ("runs older than the retention before", f"{before['runs_older_than_cutoff']:,}"),
    ]


def _deletion_rows(figures: dict) -> list[tuple[str, str]]:
    passes, wall = figures["deletion"]["passes"], _wall(figures)
    clean = [p for p in passes if not p["traced"] and p["deleted"]]
    rate = (
        f"{sum(p['deleted'] for p in clean) / sum(p['seconds'] for p in clean):,.0f} runs/s" if clean else "-"
    )
    batches = [(total, delete) for total, delete, traced in figures["deletion"]["batches"] if not traced]
    deleted = _runs(figures["before"]) - _runs(figures["after"])
    return [
        ("runs deleted with their attempts and results", f"{deleted:,} in {wall:,.0f} s ({deleted / wall:,.0f} runs/s)"),
        (f"the same, passes without tracemalloc (all but 1 in {TRACE_EVERY})", rate),
        ("reconciler passes (budget 10 s each): count / longest", f"{len(passes):,} / {max(p['seconds'] for p in passes):.1f} s"),
        (f"batch of {BATCH:,} (read + delete): p50 / p95 / max", _spread([total for total, _ in batches])),
        ("its read (the expired runs' query): p50 / p95 / max", _spread([total - delete for total, delete in batches])),
        ("its delete (5 statements, one transaction): p50 / p95 / max", _spread([delete for _, delete in batches])),
        ("pass with nothing left: right after / after VACUUM ANALYZE", f"{passes[-1]['seconds'] * 1000:,.0f} / {figures['idle_pass_ms']:,.0f} ms"),
    ]  # fmt: skip


def _memory_rows(figures: dict) -> list[tuple[str, str]]:
    deletion, wall = figures["deletion"], _wall(figures)
    rss_before, rss_after = deletion["rss_mb"]
    traced = [p for p in deletion["passes"] if p["traced"]]
    peak, held = max(p["peak_mb"] for p in traced), max(p["held_mb"] for p in traced)
    return [
        ("deleting process CPU (user + system)", f"{deletion['cpu_seconds']:,.0f} s ({deletion['cpu_seconds'] / wall:.0%} of the wall time)"),
        ("deleting process peak RSS (ru_maxrss): before → after the deletion", f"{rss_before:,.0f} → {rss_after:,.0f} MB"),
        (f"Python allocations in a pass (tracemalloc, {len(traced)} passes): peak / held at its end, largest", f"{peak:.2f} / {held:.2f} MB"),
    ]  # fmt: skip


def _wall(figures: dict) -> float:
    return sum(p["seconds"] for p in figures["deletion"]["passes"])


def _read_rows(reads: dict) -> list[tuple[str, str]]:
    rows = []
    for name, phases in reads.items():
        before, during = (phases[phase] for phase in ("before", "during"))
        value = f"{_p50_p95(before)} → {_p50_p95(during)} ms ({len(before):,} → {len(during):,} samples)"
        rows.append((f"{name}: p50 / p95 before → during the deletion", value))
    return rows


def _after_rows(figures: dict) -> list[tuple[str, str]]:
    after = figures["after"]
    kept = f"{_runs(after):,} / {after['runs_older_than_cutoff']:,}"
    return [
        ("runs kept: all / older than the retention", kept),
        ("rows after: runs / attempts / results", _each(after, "rows", "{:,}")),
        ("size after (space reused, not returned): runs / attempts / results", _each(after, "bytes", _GB)),
        _vacuum_row(figures),
    ]


def _vacuum_row(figures: dict) -> tuple[str, str]:
    if (played := figures["vacuums"]) is None:
        before, after = figures["before"], figures["after"]
        counts = " / ".join(f"{after[t]['autovacuums'] - before[t]['autovacuums']}" for t in TABLES)
        return "autovacuums during the deletion: runs / attempts / results", counts
    counts = " / ".join(f"{sum(1 for ran in played if ran[:2] == (t, 'VACUUM'))}" for t in TABLES)
    seconds = sum(ran[3] for ran in played)
    name = "VACUUMs in the deletion (autovacuum is off: played, throttled alike): runs / attempts / results"
    return name, f"{counts} ({seconds:,.0f} s of VACUUM and ANALYZE)"


def _plan_rows(plans: dict) -> list[tuple[str, str]]:
    return [
        (f"EXPLAIN ANALYZE {name} LIMIT {BATCH:,}, {when} the deletion", f"{plan['ms']:,.1f} ms: `{plan['top']}`")
        for when, explained in plans.items() for name, plan in explained.items()
    ]  # fmt: skip


_GB = "{:.2f} GB"


def _each(tables: dict, figure: str, form: str) -> str:
    scale = 2**30 if figure == "bytes" else 1
    return " / ".join(
        form.format(tables[table][figure] / scale if scale > 1 else tables[table][figure]) for table in TABLES
    )


def _runs(tables: dict) -> int:
    return tables[TABLES[0]]["rows"]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _spread(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    return " / ".join(f"{_percentile(seconds, share) * 1000:,.0f}" for share in (0.5, 0.95, 1.0)) + " ms"


def _p50_p95(milliseconds: list[float]) -> str:
    if not milliseconds:
        return "-"
    return f"{_percentile(milliseconds, 0.5):,.1f} / {_percentile(milliseconds, 0.95):,.1f}"


def _write(figures: dict) -> Path:
    from django.conf import settings

    path = Path(settings.VAR_DIR) / "bench" / "retention.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1, default=str))
    return path


if __name__ == "__main__":
    sys.exit(main())
