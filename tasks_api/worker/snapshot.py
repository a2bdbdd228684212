"""Every worker pushes what it is doing into the shared cache on a timer; the stats API reads it.

A broadcast made each stats request wait for the workers' replies (the whole timeout when one is
gone). A snapshot pushed every TASKS_API_STATS_PUSH_SECONDS answers at once, and the same to
every web process and host. The push is a consumer bootstep: it runs in the worker's main process,
where the state the inspect commands read lives.
https://docs.celeryq.dev/en/stable/userguide/extending.html#consumer-bootsteps
"""

import logging
from datetime import UTC, datetime

from celery import bootsteps
from celery.utils.collections import AttributeDict
from celery.utils.functional import pass1
from celery.worker import control
from celery.worker import state as worker_state
from django.conf import settings

from tasks_api.snapshots import (
    snapshot_drop,
    snapshot_push,
)

logger = logging.getLogger(__name__)


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
