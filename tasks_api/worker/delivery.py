"""Which declared queue a delivery came from, so that a run's retry goes back to it."""

import re
from collections.abc import Iterable, Mapping

from kombu import Queue
from kombu.transport.native_delayed_delivery import MAX_NUMBER_OF_BITS_TO_USE

# RabbitMQ's native delayed delivery (countdowns on quorum queues) prefixes the routing key with
# the countdown's bits, "0.1.1. … .<routing key>", and delivers through its own exchange.
DELAY_PREFIX = re.compile(rf"^(?:[01]\.){{{MAX_NUMBER_OF_BITS_TO_USE}}}")


def delivered_queue(*, delivery_info: Mapping | None, queues: Iterable[Queue]) -> str | None:
    """The queue's name, or None when the delivery does not say which one it is.

    Redis and the file system deliver through the nameless exchange: the routing key is the
    queue. RabbitMQ's topic exchanges route by the routing key each queue is bound with.
    """
    info = delivery_info or {}
    key = DELAY_PREFIX.sub("", info.get("routing_key") or "", count=1)
    if info.get("exchange") == "":
        return key or None
    named = [queue.name for queue in queues if queue.routing_key == key]
    return named[0] if len(named) == 1 else None
