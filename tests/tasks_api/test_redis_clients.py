"""The Redis clients' timeout, and the servers skipped for a while after a call to them failed."""

import socket
from collections.abc import Iterator

import pytest
import redis

from tasks_api.redis_clients import (
    ServerSkipped,
    redis_client,
    server_failed,
    server_failure,
    server_guard,
    servers_forget,
)


@pytest.fixture(autouse=True)
def forgotten() -> Iterator[None]:
    servers_forget()
    yield
    servers_forget()


@pytest.fixture
def mute_url(settings) -> Iterator[str]:
    """A server that accepts connections (the kernel's backlog) and never says a word."""
    settings.REDIS_TIMEOUT = 0.2  # read as each URL's client is made
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        yield f"redis://127.0.0.1:{silent.getsockname()[1]}/0"


def test_a_call_to_a_mute_redis_times_out_and_the_next_one_is_skipped_without_a_call(mute_url):
    with pytest.raises(redis.TimeoutError), server_guard(mute_url):
        redis_client(mute_url).ping()

    with pytest.raises(ServerSkipped, match="Timeout"), server_guard(mute_url):
        pytest.fail("a skipped server's block never runs")


def test_the_urls_of_one_server_share_its_failure_and_other_servers_do_not():
    server_failed("redis://cache.internal:6379/0", TimeoutError("mute"))

    assert server_failure("redis://cache.internal/3") is not None  # Redis's default port
    assert server_failure("redis://cache.internal:6380/0") is None
    assert server_failure("amqp://guest@cache.internal//") is None


def test_without_a_breaker_time_a_failed_server_is_tried_again_at_once(settings):
    settings.TASKS_API_PUBLISH_BREAKER_SECONDS = 0

    server_failed("redis://cache.internal:6379/0", TimeoutError("mute"))

    assert server_failure("redis://cache.internal:6379/0") is None


def test_an_error_that_says_nothing_of_the_server_skips_nothing():
    with pytest.raises(redis.ResponseError), server_guard("redis://cache.internal:6379/0"):
        raise redis.ResponseError("WRONGTYPE")

    assert server_failure("redis://cache.internal:6379/0") is None
