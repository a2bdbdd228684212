"""The workers' stats snapshots in the shared cache: where each is kept, pushed, dropped and read.

Written by the worker's push (tasks_api.worker.snapshot), read by the stats API and the console.
"""

import math
from functools import cache

from celery import Celery
from django.conf import settings
from django.core.cache import BaseCache, caches
from kombu.utils.json import dumps, loads


def stats_store() -> BaseCache:
    """The cache the workers push to and the API reads (settings.TASKS_API_STATS_CACHE)."""
    return caches[settings.TASKS_API_STATS_CACHE]


def snapshot_ttl() -> int:
    """Seconds a snapshot lives: a worker that stopped pushing drops out after this."""
    return math.ceil(settings.TASKS_API_STATS_PUSH_SECONDS * 2.5)


@cache
def _scope(broker_url: str | None, app: Celery) -> str:
    # A broadcast reached the workers on this broker only: keys carry its virtual host (Redis: the
    # database), so deployments sharing one cache server keep their workers apart.
    return (app.connection_for_read().virtual_host or "/").strip("/") or "0"


def stats_key(app: Celery, *parts: str) -> str:
    """A key of the stats store, in this app's broker's scope."""
    return ":".join(("tasks_api:stats", _scope(app.conf.broker_url, app), *parts))


def snapshot_push(*, app: Celery, hostname: str, snapshot: dict) -> None:
    """Store one worker's snapshot, and add the worker to the names the API reads if missing."""
    store = stats_store()
    store.set(stats_key(app, "worker", hostname), dumps(snapshot), snapshot_ttl())
    if hostname not in (store.get(stats_key(app, "names")) or ()):
        _names_update(app=app, store=store, add=hostname)


def snapshot_drop(*, app: Celery, hostname: str) -> None:
    """Take a worker out of the stats at once (on its warm shutdown)."""
    stats_store().delete(stats_key(app, "worker", hostname))


# The workers this process last found: their snapshots are asked for in the same read as the names.
_last_names: dict[str, tuple[str, ...]] = {}


def snapshots_read(*, app: Celery, also: str) -> tuple[dict[str, dict], object]:
    """The snapshots of the workers online, by worker name, and the value of the key `also`: one
    cache read while the workers stay the same, two when one joined."""
    store, names_key = stats_store(), stats_key(app, "names")
    guessed = _last_names.get(names_key, ())
    found = store.get_many([names_key, also, *(stats_key(app, "worker", name) for name in guessed)])
    names = _last_names[names_key] = tuple(found.get(names_key, ()))
    if joined := [stats_key(app, "worker", name) for name in names if name not in guessed]:
        found |= store.get_many(joined)
    keys = {name: stats_key(app, "worker", name) for name in names}
    return {name: loads(found[key]) for name, key in keys.items() if key in found}, found.get(also)


def _names_update(*, app: Celery, store: BaseCache, add: str) -> None:
    # Read-modify-write under a lock (an atomic add on Redis), so two workers joining at once
    # cannot drop each other; the names of workers whose snapshot expired are dropped here too.
    lock = stats_key(app, "names-lock")
    if not store.add(lock, add, timeout=5):
        return  # another worker is writing the names: this one tries again on its next push
    try:
        names = [*(store.get(stats_key(app, "names")) or ()), add]
        alive = store.get_many([stats_key(app, "worker", name) for name in names])
        live = sorted({name for name in names if stats_key(app, "worker", name) in alive})
        store.set(stats_key(app, "names"), live, None)
    finally:
        store.delete(lock)
