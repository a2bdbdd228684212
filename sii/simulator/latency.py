"""Simulated response time: each SII request answers a little later, so a demo sync can be watched."""

import time
import zlib
from dataclasses import dataclass

from sii.simulator.wsgi import Request

DEFAULT_JITTER = 0.5  # each request waits between half and one and a half times the latency


@dataclass(frozen=True)
class Latency:
    """`seconds` per SII request, give or take `jitter` (a fraction of it).

    The spread comes from a checksum of the request itself, not from a shared random generator:
    the same request always waits the same time, and drawing it needs no lock. The wait happens
    in the request's own thread (the server runs one per connection) and outside every lock of
    the simulator, so concurrent syncs each see their own latency instead of queueing.
    """

    seconds: float = 0.0
    jitter: float = DEFAULT_JITTER

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError("latency must be 0 or more seconds")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def for_request(self, request: Request) -> float:
        """Seconds this request waits before it is answered."""
        if not self.seconds:
            return 0.0
        query = "&".join(f"{key}={value}" for key, value in sorted(request.query.items()))
        checksum = zlib.crc32(f"{request.method} {request.path}?{query}".encode() + request.body)
        spread = 2 * checksum / 0xFFFFFFFF - 1  # in [-1, 1]
        return self.seconds * (1 + self.jitter * spread)

    def wait(self, request: Request) -> None:
        if delay := self.for_request(request):
            time.sleep(delay)


NO_LATENCY = Latency()
