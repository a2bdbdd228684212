"""Benchmark: an all-companies sync's dispatch beside a raw Celery publish of as many messages.

`python -m benchmarks.fanout_dispatch [--smoke]` with DATABASE_URL (PostgreSQL) and REDIS_URL uses
its own database (sii_tasks_bench_fanout), dropped and re-created, and prints the figures; the
bench harness imports `measure`. Ours is the dispatch of sii.sync_documents_all_companies: the
companies' query, then task_launch_children, the service the parent task calls (records in
batches, publishes, marks enqueued), timed in this process so that a worker's start, claim and
result write are not counted as dispatch. The reference is what a Celery user writes to publish
that many tasks as fast as Celery goes: `app.send_task(..., producer=producer)` in a loop on one
acquired producer (as Celery's group.apply_async does), with this project's before_task_publish
receiver (it records launches published without a record) disconnected, as in a bare Celery
app. A second row holds ours against the same loop inside kombu's `producer.batch()` (Redis
pipelining, new in kombu 5.7, which our publish uses): the floor for publishing through
`send_task` at all. The queue is purged before every pass; no worker consumes it meanwhile.
"""

import json
import statistics
import sys
import time
import uuid
from contextlib import contextmanager, nullcontext

from benchmarks.database import bench_database_use

BENCH_DATABASE = "sii_tasks_bench_fanout"
COMPANIES, SMOKE_COMPANIES = 10_000, 200
ROUNDS = 3
GROWTH_SIZES, SMOKE_GROWTH_SIZES = (1_000, 10_000), (100,)
CHILD_TYPE = "sii.sync_documents"
PARAMS = {"months": 1, "month_offset": 0}
REFERENCES = {
    "reference": "send_task loop on one producer (raw Celery)",
    "pipelined": "send_task loop inside producer.batch() (raw Celery, pipelined)",
}


def measure(*, smoke: bool) -> dict:
    """Seconds to dispatch COMPANIES children (ours) and to publish as many messages (reference)."""
    count, rounds = (SMOKE_COMPANIES, 1) if smoke else (COMPANIES, ROUNDS)
    sizes = SMOKE_GROWTH_SIZES if smoke else GROWTH_SIZES
    _ensure_companies(max(count, *sizes))
    sides = {"ours": _ours, "reference": _reference, "pipelined": _pipelined}
    seconds: dict[str, list[float]] = {side: [] for side in sides}
    for number in range(rounds):
        for side in sorted(sides, reverse=number % 2 == 1):
            seconds[side].append(sides[side](count))
    growth = [{"x": size, "ours": _ours(size), "reference": _reference(size)} for size in sizes]
    rows = [_row(f"Fan-out dispatch, {count:,} companies", seconds, "reference")]
    rows.append(_row(f"Fan-out dispatch vs a pipelined raw publish, {count:,}", seconds, "pipelined"))
    return {"rows": rows, "growth": [_growth(growth)]}


def _row(name: str, seconds: dict[str, list[float]], reference: str) -> dict:
    return {
        "row": name,
        "unit": "s",
        "higher_is_better": False,
        "ours": seconds["ours"],
        "reference": seconds[reference],
        "reference_name": REFERENCES[reference],
        "target": "ours <= 1.5 x reference",
        "target_ratio": 1.5,
    }


def _growth(points: list[dict]) -> dict:
    return {"table": "Fan-out dispatch by companies", "x_name": "companies", "unit": "s", "points": points}


def _ours(count: int) -> float:
    """The parent's dispatch over the first `count` subscribed companies; its children deleted after."""
    from django.conf import settings

    from sii.selectors import company_ids_with_active_subscription
    from tasks_api.models import TaskLaunch
    from tasks_api.services.fanout import task_launch_children

    parent = TaskLaunch.objects.create(task_type="sii.sync_documents_all_companies", launched_by="system")
    _purge()
    started = time.perf_counter()
    companies = company_ids_with_active_subscription()[:count]
    dispatched = task_launch_children(
        parent_task_id=parent.task_id,
        task_type=CHILD_TYPE,
        params_list=[{"company_id": company_id, **PARAMS} for company_id in companies],
        batch_size=settings.SII_FANOUT_BATCH_SIZE,
    )
    elapsed = time.perf_counter() - started
    _check(dispatched, count)
    TaskLaunch.objects.filter(parent_id=parent.task_id).delete()
    return elapsed


def _reference(count: int) -> float:
    return _raw_publish(count, pipelined=False)


def _pipelined(count: int) -> float:
    return _raw_publish(count, pipelined=True)


def _raw_publish(count: int, *, pipelined: bool) -> float:
    from config.celery import app

    task_ids = [str(uuid.uuid4()) for _ in range(count)]
    kwargs = [{"company_id": str(uuid.uuid4()), **PARAMS} for _ in range(count)]
    _purge()
    with _bare_celery():
        started = time.perf_counter()
        with app.producer_or_acquire() as producer, producer.batch() if pipelined else nullcontext():
            for task_id, task_kwargs in zip(task_ids, kwargs, strict=True):
                app.send_task(CHILD_TYPE, kwargs=task_kwargs, task_id=task_id, producer=producer)
        elapsed = time.perf_counter() - started
    _check(count, count)
    return elapsed


@contextmanager
def _bare_celery():
    """Without this project's before_task_publish receiver, as a plain Celery app publishes."""
    from celery.signals import before_task_publish

    from tasks_api.worker import signals

    uid = "tasks_api.record_external_launch"
    before_task_publish.disconnect(dispatch_uid=uid)
    try:
        yield
    finally:
        before_task_publish.connect(signals.record_external_launch, dispatch_uid=uid)


def _check(dispatched: int, count: int) -> None:
    """Both sides really published every message."""
    queued = _queue_length()
    if dispatched != count or queued != count:
        raise RuntimeError(f"Expected {count} messages; dispatched {dispatched}, queued {queued}")


def _queue_length() -> int:
    from django.conf import settings

    from config.celery import app

    with app.connection_for_write() as connection:
        return connection.default_channel.client.llen(settings.SII_QUEUE)


def _purge() -> None:
    from django.conf import settings

    from config.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(settings.SII_QUEUE)


def _ensure_companies(count: int) -> None:
    """`count` companies with an active subscription (made in bulk)."""
    from sii import crypto, rut
    from sii.models import Company, Subscription

    missing = count - Company.objects.with_active_subscription().count()
    if missing <= 0:
        return
    first = 77_000_000 + Company.objects.count()
    password = crypto.encrypt("clave-bench")
    companies = [
        Company(name=f"Flota {n} SpA", rut_body=n, rut_dv=rut.check_digit(n), sii_password_encrypted=password)
        for n in range(first, first + missing)
    ]
    Company.objects.bulk_create(companies, batch_size=1000)
    Subscription.objects.bulk_create([Subscription(company=c) for c in companies], batch_size=1000)


def main() -> None:
    import django

    bench_database_use(name=BENCH_DATABASE)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    figures = measure(smoke="--smoke" in sys.argv)
    for row in figures["rows"]:
        ours, reference = statistics.median(row["ours"]), statistics.median(row["reference"])
        print(f"{row['row']}: ours {ours:.2f} s, reference {reference:.2f} s, ratio {ours / reference:.2f}")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
