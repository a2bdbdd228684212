"""Launching tasks: record first, publish after the record commits, with the task id fixed."""

import functools
import logging
import time
from collections.abc import Sequence
from typing import Protocol

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu import Producer

from tasks_api.metrics.core import launches_count
from tasks_api.models import TaskLaunch
from tasks_api.redis_clients import (
    UNREACHABLE,
    server_answered,
    server_failed,
    server_failure,
    servers_forget,
)
from tasks_api.registry import catalog
from tasks_api.runs.errors import launch_failure_message
from tasks_api.runs.transitions import runs_publish_failed, runs_published

logger = logging.getLogger(__name__)
LAUNCH_RECORDED_HEADER = "launch_recorded"
# Messages sent to the broker per round trip when publishing many launches at once.
PIPELINE = 100


def task_launch(
    *,
    task_type: str,
    params: dict,
    launched_by: str,
    user=None,
    relaunch_of: TaskLaunch | None = None,
    periodic_task_name: str = "",
) -> TaskLaunch:
    """Record a launch and publish it once the record is committed."""
    launch = TaskLaunch.objects.create(
        task_type=task_type,
        params=params,
        subject_id=_subject_of(task_type, params),
        launched_by=launched_by,
        user=user,
        relaunch_of=relaunch_of,
        periodic_task_name=periodic_task_name,
    )
    transaction.on_commit(lambda: _launch_committed(launch), robust=False)
    return launch


def _launch_committed(launch: TaskLaunch) -> None:
    # Counted on commit, as it is published: a launch rolled back with its caller's transaction never was.
    launches_count(task_type=launch.task_type, launched_by=launch.launched_by)
    task_launch_publish(launch=launch)


def _subject_of(task_type: str, params: dict) -> str | None:
    known = catalog().get(task_type)
    return known.subject_of(params) if known else None


def task_relaunch(*, launch: TaskLaunch, user) -> TaskLaunch:
    """A new launch with the same task type and exactly the same params, linked to the original."""
    return task_launch(
        task_type=launch.task_type,
        params=launch.params,
        launched_by=TaskLaunch.LaunchedBy.USER,
        user=user,
        relaunch_of=launch,
    )


class TaskLaunchFailed(Exception):
    """The broker did not take the message; the launch record says so too."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(launch_failure_message(reason))


class TaskRevoked(Exception):
    """The run was revoked: it stops between steps, keeping what it already saved."""


def task_launch_publish(*, launch: TaskLaunch) -> None:
    """Publish a recorded launch; mark it enqueued, or record why it was not and raise."""
    try:
        launches_publish(launches=[launch], at_once=True)
    except TaskLaunchFailed as exc:
        launch.enqueued, launch.enqueue_error = False, exc.reason
        raise
    launch.enqueued = True


class Publishable(Protocol):
    """What a publish needs of a launch: a TaskLaunch, or a child a fan-out holds in memory."""

    @property
    def task_id(self) -> str: ...
    @property
    def task_type(self) -> str: ...
    @property
    def params(self) -> dict: ...
    @property
    def launched_by(self) -> str: ...


def launches_publish(
    *, launches: Sequence[Publishable], mark_failures: bool = True, at_once: bool = False
) -> None:
    """Publish recorded launches over one broker connection, each marked enqueued once its
    publish succeeded. The first refused publish raises TaskLaunchFailed; with `mark_failures`
    the launches left unpublished are recorded as not enqueued (a republish leaves them be).
    With `at_once` (a request waits for it) a timeout is not retried, and nothing is tried while
    the broker's server is skipped (tasks_api.redis_clients)."""
    published = 0
    policy = AT_ONCE if at_once else {}
    try:
        _breaker.check(server_too=at_once)
        with current_app.producer_or_acquire() as producer:
            for start in range(0, len(launches), PIPELINE):
                chunk = launches[start : start + PIPELINE]
                _send_pipelined(chunk, producer=producer, policy=policy)
                published += len(chunk)
    except Exception as exc:  # kombu and redis-py raise many types; all mean "not enqueued"
        runs_published(task_ids=[launch.task_id for launch in launches[:published]])
        reason = _breaker.trip(exc)
        if mark_failures:
            runs_publish_failed(task_ids=[launch.task_id for launch in launches[published:]], reason=reason)
        raise TaskLaunchFailed(reason) from exc
    _breaker.reset()
    runs_published(task_ids=[launch.task_id for launch in launches])


def _send_pipelined(launches: Sequence[Publishable], *, producer: Producer, policy: dict) -> None:
    # kombu's publish batch sends a chunk's LPUSHes to Redis in one pipeline, where a plain
    # publish makes a client and a round trip per message; other transports publish at once.
    # A failed flush leaves the whole chunk's delivery uncertain: it counts as not published
    # (publishing a run twice is harmless, a worker never runs a run twice).
    if len(launches) == 1:  # a single launch: nothing to pipeline
        _send(launches[0], producer=producer, policy=policy)
        return
    with producer.batch(max_size=PIPELINE * 4):
        for launch in launches:
            _send(launch, producer=producer, policy=policy)


class _PublishBreaker:
    """After a refused publish, fail fast for a while instead of holding every caller for the
    broker's whole timeout (a mute broker would stall every web worker). Per process, in memory.

    A request's launch also fails at once while the broker's server is skipped after any call to
    it failed (tasks_api.redis_clients): where it is REDIS_URL's Redis too (compose), the launch's
    rate count that found it mute spares the publish its own wait. A refused publish marks the
    server in turn, sparing the calls after it (the run's notification, the next rate counts).
    """

    def __init__(self) -> None:
        self.open_until, self.reason = 0.0, ""

    def check(self, *, server_too: bool) -> None:
        left, reason = self.open_until - time.monotonic(), self.reason
        if left <= 0 and server_too and (failure := server_failure(current_app.conf.broker_url)):
            reason, left = failure
        if left > 0:
            raise BrokerUnavailable(f"{reason} (the broker is not tried again for {left:.0f} s)")

    def trip(self, exc: Exception) -> str:
        reason = str(exc) or type(exc).__name__
        if not isinstance(exc, BrokerUnavailable):
            self.open_until = time.monotonic() + settings.TASKS_API_PUBLISH_BREAKER_SECONDS
            self.reason = reason
            if isinstance(exc, UNREACHABLE):
                server_failed(current_app.conf.broker_url, exc)
        return reason

    def reset(self) -> None:
        self.open_until, self.reason = 0.0, ""
        server_answered(current_app.conf.broker_url)


class BrokerUnavailable(Exception):
    """A publish refused at once: the broker failed moments ago."""


_breaker = _PublishBreaker()


def publish_breaker_reset() -> None:
    """Forget recent broker and Redis failures (tests that repoint the broker)."""
    _breaker.reset()
    servers_forget()


def _no_retry_after_timeout(exc: Exception, interval: float) -> None:
    # kombu calls this before each retry of a publish. A refused or reset connection is worth
    # one (a restarted broker, a stale pooled connection); a timeout is not: a mute broker would
    # hold the request for another timeout per retry.
    if isinstance(exc, (TimeoutError, redis.TimeoutError)):
        raise exc


# Merged into CELERY_TASK_PUBLISH_RETRY_POLICY for a request's launch.
AT_ONCE = {"errback": _no_retry_after_timeout}


def _send(launch: Publishable, *, producer: Producer, policy: dict) -> None:
    current_app.send_task(
        launch.task_type,
        kwargs=launch.params,
        task_id=launch.task_id,
        producer=producer,
        queue=launch_queue(task_type=launch.task_type, launched_by=launch.launched_by),
        retry=True,
        retry_policy=policy,
        # Tells the before_task_publish handler that this publish is already recorded.
        headers={LAUNCH_RECORDED_HEADER: True},
    )


def launch_queue(*, task_type: str, launched_by: str) -> str | None:
    """The on-demand queue (TASKS_API_ONDEMAND_QUEUES) of a user's launch whose task is routed to
    a queue that has one; None: Celery's routes decide, as for beat's own publishes."""
    if launched_by != TaskLaunch.LaunchedBy.USER:
        return None
    return settings.TASKS_API_ONDEMAND_QUEUES.get(_routed_queue(task_type))


@functools.cache
def _routed_queue(task_type: str) -> str:
    # What send_task's router picks with no queue given: the routes, else the default queue.
    return current_app.amqp.router.route({}, task_type)["queue"].name


def task_launch_record_external(
    *, task_id: str, task_type: str, params: dict, periodic_task_name: str
) -> None:
    """Record a publish that did not go through task_launch (beat, `celery call`), once."""
    launched_by = TaskLaunch.LaunchedBy.BEAT if periodic_task_name else TaskLaunch.LaunchedBy.SYSTEM
    _, created = TaskLaunch.objects.get_or_create(
        task_id=task_id,
        defaults={
            "task_type": task_type,
            "params": params,
            "launched_by": launched_by,
            "periodic_task_name": periodic_task_name,
            "subject_id": _subject_of(task_type, params),
            "enqueued": True,
            "published_at": timezone.now(),
        },
    )
    if created:
        launches_count(task_type=task_type, launched_by=launched_by)
