"""Worker and queue statistics: one broadcast with a short timeout, cached for a few seconds."""

import logging

from celery import Celery, current_app
from django.conf import settings
from django.core.cache import cache
from kombu.exceptions import ChannelError

logger = logging.getLogger(__name__)
CACHE_KEY = "tasks_api:celery_stats"


def celery_stats_get(*, app: Celery | None = None) -> dict:
    """The original service's four keys plus reserved tasks, queue lengths and the workers online."""
    stats = cache.get(CACHE_KEY)
    if stats is None:
        stats = _collect(app or current_app)
        cache.set(CACHE_KEY, stats, settings.TASKS_API_STATS_CACHE_SECONDS)
    return stats


def _collect(app: Celery) -> dict:
    replies = _snapshots(app)
    registered = sorted({name for reply in replies.values() for name in reply.get("registered", [])})
    return {
        "active_tasks": {worker: reply.get("active", []) for worker, reply in replies.items()},
        "scheduled_tasks": {worker: reply.get("scheduled", []) for worker, reply in replies.items()},
        "registered_tasks": registered,
        "worker_stats": {worker: reply.get("stats", {}) for worker, reply in replies.items()},
        "reserved_tasks": {worker: reply.get("reserved", []) for worker, reply in replies.items()},
        "queues": queue_lengths(app),
        "workers_online": sorted(replies),
    }


def _snapshots(app: Celery) -> dict[str, dict]:
    try:
        replies = app.control.broadcast(
            "tasks_snapshot", reply=True, timeout=settings.TASKS_API_STATS_TIMEOUT
        )
    except Exception:  # a broker that is down means no worker can answer either
        logger.warning("Worker stats broadcast failed", exc_info=True)
        return {}
    return {
        worker: answer
        for reply in replies or []
        for worker, answer in reply.items()
        if isinstance(answer, dict)
    }


def queue_names(app: Celery) -> list[str]:
    """The queues the settings declare (CELERY_TASK_QUEUES), else Celery's default queue."""
    declared = app.conf.task_queues or []
    return [queue.name for queue in declared] or [app.conf.task_default_queue]


def queue_lengths(app: Celery) -> dict[str, int | None]:
    """Messages waiting per declared queue; null when the broker cannot be reached."""
    names = queue_names(app)
    try:
        with app.connection_for_read() as connection:
            return {name: _queue_length(connection.default_channel, name) for name in names}
    except Exception:
        logger.info("Could not read queue lengths", exc_info=True)
        return dict.fromkeys(names)


def _queue_length(channel, name: str) -> int | None:
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:
        # Not declared (RabbitMQ), or empty (Redis deletes empty lists): nothing waits there.
        return 0
