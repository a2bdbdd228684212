"""Worker and queue statistics: the snapshots the workers push, and the queues' lengths.

No request waits on the workers: each pushes its snapshot every few seconds
(tasks_api/worker/snapshot.py); a request reads them from the shared cache.
"""

import logging
from contextlib import suppress

from celery import Celery, current_app
from django.conf import settings
from kombu import Connection
from kombu.exceptions import ChannelError

from tasks_api.redis_clients import ServerSkipped, cache_guard, server_guard
from tasks_api.snapshots import snapshots_read, stats_key, stats_store

logger = logging.getLogger(__name__)
# However many requests poll, the broker is asked for the queues' lengths once per this many seconds.
QUEUES_SECONDS = 1


def celery_stats_get(*, app: Celery | None = None) -> dict:
    """The original service's four keys plus reserved tasks, queue lengths and the workers online."""
    app = app or current_app
    snapshots, queues = _read(app)
    registered = sorted({name for snapshot in snapshots.values() for name in snapshot["registered"]})
    return {
        "active_tasks": {worker: snapshot["active"] for worker, snapshot in snapshots.items()},
        "scheduled_tasks": {worker: snapshot["scheduled"] for worker, snapshot in snapshots.items()},
        "registered_tasks": registered,
        "worker_stats": {worker: snapshot["stats"] for worker, snapshot in snapshots.items()},
        "reserved_tasks": {worker: snapshot["reserved"] for worker, snapshot in snapshots.items()},
        "queues": queues,
        "workers_online": sorted(snapshots),
        "collected_at": {worker: snapshot["collected_at"] for worker, snapshot in snapshots.items()},
    }


def _read(app: Celery) -> tuple[dict[str, dict], dict[str, int | None]]:
    # The queues' lengths are remembered beside the snapshots, so both come in the same reads.
    # A Redis or broker that failed moments ago is not asked (tasks_api.redis_clients).
    key = stats_key(app, "queues")
    try:
        with cache_guard(settings.TASKS_API_STATS_CACHE):
            snapshots, queues = snapshots_read(app=app, also=key)
    except Exception as exc:  # the shared cache is down: say no worker is known rather than fail
        if not isinstance(exc, ServerSkipped):  # logged when it failed
            logger.warning("Could not read the workers' stats snapshots", exc_info=True)
        snapshots, queues = {}, None
    if not isinstance(queues, dict):
        queues = _queue_lengths_at_once(app)
        with suppress(Exception), cache_guard(settings.TASKS_API_STATS_CACHE):
            stats_store().set(key, queues, QUEUES_SECONDS)
    return snapshots, queues


def queue_names(app: Celery) -> list[str]:
    """The queues the settings declare (CELERY_TASK_QUEUES), else Celery's default queue."""
    declared = app.conf.task_queues or []
    return [queue.name for queue in declared] or [app.conf.task_default_queue]


def queue_lengths(app: Celery) -> dict[str, int | None]:
    """Messages waiting per declared queue; null when the broker cannot be reached."""
    try:
        with app.connection_for_read() as connection:
            return _lengths(connection, app)
    except Exception:
        logger.info("Could not read queue lengths", exc_info=True)
        return dict.fromkeys(queue_names(app))


def _queue_lengths_at_once(app: Celery) -> dict[str, int | None]:
    # A request's read: one connection attempt (kombu's retries sleep seconds between them),
    # none while the broker is skipped.
    try:
        with server_guard(app.conf.broker_url), app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=0)
            return _lengths(connection, app)
    except Exception as exc:
        if not isinstance(exc, ServerSkipped):
            logger.info("Could not read queue lengths", exc_info=True)
        return dict.fromkeys(queue_names(app))


def _lengths(connection: Connection, app: Celery) -> dict[str, int | None]:
    return {name: _queue_length(connection.default_channel, name) for name in queue_names(app)}


def _queue_length(channel, name: str) -> int | None:
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:
        # Not declared (RabbitMQ), or empty (Redis deletes empty lists): nothing waits there.
        return 0
