"""Runs announce that they finished on a Redis pub/sub channel per task id; waiting requests listen.

Best effort on both sides: a notification lost (Redis away, a process without REDIS_URL) only
makes a waiting request answer at the end of its wait instead of at once, with the true status.
"""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.db import transaction

from tasks_api.redis_clients import redis_client, server_guard

logger = logging.getLogger(__name__)


def finished_channel(task_id: str) -> str:
    return f"tasks_api.run_finished.{task_id}"


def notifications_enabled() -> bool:
    return bool(settings.TASKS_API_NOTIFY_REDIS_URL)


def run_finished_notify(*, task_ids: Iterable[str]) -> None:
    """Announce, once the current transaction commits (at once outside one), that these runs
    reached a finished state, so that a waiter reading the status then sees it."""
    ids = list(task_ids)
    if ids and notifications_enabled():
        transaction.on_commit(lambda: _publish(ids), robust=True)


def _publish(task_ids: list[str]) -> None:
    url = settings.TASKS_API_NOTIFY_REDIS_URL
    try:
        with server_guard(url), redis_client(url).pipeline(transaction=False) as pipe:
            for task_id in task_ids:
                pipe.publish(finished_channel(task_id), "finished")
            pipe.execute()
    except redis.RedisError:
        logger.warning("Could not announce that %d run(s) finished: Redis unreachable", len(task_ids))


class FinishListener:
    """A subscription to one run's channel, confirmed by Redis before it is handed out."""

    def __init__(self, pubsub: redis.client.PubSub) -> None:
        self.pubsub = pubsub

    def wait(self, *, timeout: float) -> bool | None:
        """Block on the socket until a notification (True) or the timeout (False); None when
        Redis went away meanwhile (the caller checks by other means)."""
        try:
            message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=max(timeout, 0.0))
        except redis.RedisError:
            logger.warning("Lost Redis while waiting for a run to finish", exc_info=True)
            return None
        return message is not None


@contextmanager
def run_finished_listener(*, task_id: str) -> Iterator[FinishListener | None]:
    """Subscribed to the run's channel for the block; None without Redis (or when it is down)."""
    if not notifications_enabled():
        yield None
        return
    pubsub = _subscribed(task_id)
    try:
        yield FinishListener(pubsub) if pubsub else None
    finally:
        if pubsub is not None:
            pubsub.close()


def _subscribed(task_id: str) -> redis.client.PubSub | None:
    url = settings.TASKS_API_NOTIFY_REDIS_URL
    pubsub = redis_client(url).pubsub()
    try:
        with server_guard(url):
            pubsub.subscribe(finished_channel(task_id))
            # Wait for Redis to confirm: only then can no notification slip between subscribing
            # and the caller's first read of the status.
            if pubsub.get_message(timeout=settings.REDIS_TIMEOUT) is None:
                raise redis.TimeoutError("Redis did not confirm the subscription")  # mute
        return pubsub
    except redis.RedisError:
        pass
    logger.warning("Could not subscribe to run notifications: Redis unreachable; checking instead")
    pubsub.close()
    return None
