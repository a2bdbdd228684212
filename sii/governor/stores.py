"""Where the governor keeps its state: Redis for a deployment (every host shares it, on Redis's own
clock), or files under a lock for the embedded default (one host, its processes share them)."""

import fcntl
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

import redis

from sii.client.errors import SiiTransientError
from sii.governor.rules import State

T = TypeVar("T")
# Keys left alone this long are dropped (Redis) or stale anyway: a pace's state is a time.
KEY_TTL_SECONDS = 24 * 3600
Change = Callable[[State, float], tuple[State | None, T]]


class GovernorUnavailable(SiiTransientError):
    """The governor's store did not answer: no request goes to the SII unpaced, the sync tries later."""


class Store(Protocol):
    def read(self, key: str) -> tuple[State, float]:
        """The key's state (empty when none) and the store's time."""

    def change(self, key: str, change: Change[T]) -> T:
        """Apply change(state, now) atomically: store the state it returns (unless None), return its result."""


class RedisStore:
    """One JSON value per key, changed under WATCH: a change that raced another is computed again."""

    def __init__(self, *, url: str, timeout: float, prefix: str = "sii:governor:") -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix

    def read(self, key: str) -> tuple[State, float]:
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._prefix + key)
                pipe.time()
                raw, (seconds, micros) = pipe.execute()
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
        return _loaded(raw), seconds + micros / 1e6

    def change(self, key: str, change: Change[T]) -> T:
        key = self._prefix + key
        try:
            with self._redis.pipeline() as pipe:
                while True:
                    try:
                        return self._apply(pipe, key, change)
                    except redis.WatchError:
                        continue  # another worker changed it between our read and our write
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc

    def _apply(self, pipe: "redis.client.Pipeline", key: str, change: Change[T]) -> T:
        pipe.watch(key)
        seconds, micros = pipe.time()
        state, result = change(_loaded(pipe.get(key)), seconds + micros / 1e6)
        pipe.multi()
        if state is not None:
            pipe.set(key, json.dumps(state), ex=KEY_TTL_SECONDS)
        pipe.execute()  # an empty transaction just ends the WATCH
        return result


class FileStore:
    """One JSON file per key in `folder`, changed under an exclusive flock (this host's clock)."""

    def __init__(self, *, folder: Path) -> None:
        self._folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def read(self, key: str) -> tuple[State, float]:
        return self.change(key, lambda state, now: (None, (state, now)))

    def change(self, key: str, change: Change[T]) -> T:
        path = self._folder / (re.sub(r"[^\w.-]", "_", key) + ".json")
        with open(path, "a+b") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # released when the file closes
            file.seek(0)
            state, result = change(_loaded(file.read()), time.time())
            if state is not None:
                file.seek(0)
                file.truncate()
                file.write(json.dumps(state).encode())
                file.flush()  # no fsync: a pace or breaker state lost in a crash is harmless
        return result


def _loaded(raw: bytes | str | None) -> State:
    return json.loads(raw) if raw else {}


def _unavailable(exc: Exception) -> GovernorUnavailable:
    return GovernorUnavailable(f"the SII governor's Redis did not answer ({type(exc).__name__}: {exc})")
