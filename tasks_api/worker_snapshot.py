"""Every worker pushes what it is doing into the shared cache on a timer; the stats API reads it.

A broadcast made each stats request wait for the workers' replies (the whole timeout when one is
gone). A snapshot pushed every TASKS_API_STATS_PUSH_SECONDS answers at once, and the same to
every web process and host. The push is a consumer bootstep: it runs in the worker's main process,
where the state the inspect commands read lives.
https://docs.celeryq.dev/en/stable/userguide/extending.html#consumer-bootsteps
"""

import logging
import math
from datetime import UTC, datetime
from functools import cache

from celery import Celery, bootsteps
from celery.utils.collections import AttributeDict
from celery.utils.functional import pass1
from celery.worker import control
from celery.worker import state as worker_state
from django.conf import settings
from django.core.cache import BaseCache, caches
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


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


def snapshot_collect(consumer) -> dict:
    """What the inspect commands answer (active, scheduled, reserved, registered, stats), at once."""
    # The state celery.worker.pidbox gives the remote-control commands.
    state = AttributeDict(
        app=consumer.app,
        hostname=consumer.hostname,
        consumer=consumer,
        tset=pass1 if consumer.controller.use_eventloop else set,
    )
    return {
        "active": control.active(state),
        "scheduled": control.scheduled(state),
        "reserved": control.reserved(state),
        "registered": control.registered(state),
        "stats": _without_broker_password(control.stats(state)),
        "collected_at": datetime.now(UTC).isoformat(),
    }


def _without_broker_password(stats: dict) -> dict:
    broker = stats.get("broker")
    if isinstance(broker, dict) and broker.get("password"):
        stats["broker"] = {**broker, "password": "**"}
    return stats


class SnapshotPush(bootsteps.StartStopStep):
    """Pushes the worker's snapshot when the consumer starts, then every few seconds."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        self.tref = None
        super().__init__(parent, **kwargs)

    def start(self, parent) -> None:
        self.push(parent)
        self.tref = parent.timer.call_repeatedly(settings.TASKS_API_STATS_PUSH_SECONDS, self.push, (parent,))

    def push(self, parent) -> None:
        if worker_state.should_stop is not None or worker_state.should_terminate is not None:
            return  # shutting down: the pool may be gone already, and shutdown() drops the snapshot
        try:
            snapshot_push(app=parent.app, hostname=parent.hostname, snapshot=snapshot_collect(parent))
        except Exception:  # a cache outage must not stop the worker; the next push tries again
            logger.warning("Could not push the worker's stats snapshot", exc_info=True)

    def stop(self, parent) -> None:
        # On a lost broker connection the consumer restarts: the snapshot stays until it expires.
        if self.tref is not None:
            parent.timer.cancel(self.tref)
            self.tref = None

    def shutdown(self, parent) -> None:
        self.stop(parent)
        try:
            snapshot_drop(app=parent.app, hostname=parent.hostname)
        except Exception:
            logger.warning("Could not drop the worker's stats snapshot", exc_info=True)
