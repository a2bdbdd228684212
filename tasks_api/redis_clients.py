"""One Redis client per process and URL: launch rates, run notifications and metrics share it."""

from functools import cache

import redis

# Long enough for a loaded Redis, short enough that a dead one costs a request little.
SOCKET_TIMEOUT = 2.0


@cache
def redis_client(
    url: str, *, socket_timeout: float = SOCKET_TIMEOUT, socket_connect_timeout: float = SOCKET_TIMEOUT
) -> redis.Redis:
    """The client (and its connection pool) for `url`; redis-py resets the pool after a fork."""
    return redis.Redis.from_url(
        url, socket_timeout=socket_timeout, socket_connect_timeout=socket_connect_timeout
    )
