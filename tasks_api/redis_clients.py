"""One Redis client per process and URL, and the servers that just failed a call, skipped a while.

A mute Redis (alive, never answering) costs every call the whole timeout (settings.REDIS_TIMEOUT).
Once a call to a server failed, a request's calls to it (a launch's rate count and publish, a
finished run's notification, the stats) fail at once for TASKS_API_PUBLISH_BREAKER_SECONDS
instead of each waiting that long again. Servers are told apart by host and port, so the broker
and REDIS_URL on one Redis (compose) share what one call learnt. Kept per process, in memory: a
mute Redis cannot slow the check.
"""

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from urllib.parse import urlsplit

import redis
from django.conf import settings
from kombu.exceptions import OperationalError

# What a call to a server that is down or mute raises: redis-py's errors, a socket's, kombu's.
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, OSError, OperationalError)
DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "pyamqp": 5672, "amqps": 5671}
# Server -> (until when it is skipped, time.monotonic(); why).
_failed: dict[str, tuple[float, str]] = {}


class ServerSkipped(redis.ConnectionError):
    """Not tried: the server failed a call moments ago."""


@cache
def redis_client(url: str) -> redis.Redis:
    """The client (and its connection pool) for `url`; redis-py resets the pool after a fork."""
    timeout = settings.REDIS_TIMEOUT
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def server_of(url: str) -> str:
    """The server a URL names, as host:port (a Unix socket: the URL itself)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    return f"{parts.hostname}:{parts.port or DEFAULT_PORTS.get(parts.scheme, '')}"


def server_failure(url: str) -> tuple[str, float] | None:
    """Why the server of `url` is skipped and for how many more seconds; None when it is not."""
    until, reason = _failed.get(server_of(url), (0.0, ""))
    left = until - time.monotonic()
    return (reason, left) if left > 0 else None


def server_failed(url: str, exc: BaseException) -> None:
    """Skip the server of `url` for a while: `exc` says it is down or mute."""
    reason = str(exc) or type(exc).__name__
    _failed[server_of(url)] = (time.monotonic() + settings.TASKS_API_PUBLISH_BREAKER_SECONDS, reason)


def server_answered(url: str) -> None:
    _failed.pop(server_of(url), None)


def servers_forget() -> None:
    """Forget every failure (tests that repoint the broker or Redis)."""
    _failed.clear()


@contextmanager
def server_guard(url: str) -> Iterator[None]:
    """Around a request's calls to the server of `url`: ServerSkipped at once while it is
    skipped; an error saying it is down or mute starts skipping it."""
    if failure := server_failure(url):
        raise ServerSkipped(f"{server_of(url)} is skipped for {failure[1]:.0f} s more: {failure[0]}")
    try:
        yield
    except ServerSkipped:
        raise
    except UNREACHABLE as exc:
        server_failed(url, exc)
        raise


def cache_guard(alias: str) -> AbstractContextManager[None]:
    """server_guard for the Redis holding the cache `alias`; nothing for a local cache (files)."""
    config = settings.CACHES[alias]
    if config["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return nullcontext()
    return server_guard(str(config["LOCATION"]))
