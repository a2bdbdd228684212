"""How long tests and benchmarks wait for processes: every wait is a bound times TEST_WAIT_SCALE."""

import math
import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
SETTING = "TEST_WAIT_SCALE"


def scale_from(raw: str | None) -> float:
    """The scale a TEST_WAIT_SCALE value asks for: a number ≥ 1, 1 when unset or empty."""
    text = (raw or "").strip() or "1"
    try:
        scale = float(text)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and scale >= 1):  # also refuses nan and inf
        raise ValueError(
            f"{SETTING}={raw!r} is not a number ≥ 1. It multiplies how long tests wait for "
            f"processes; on a loaded machine try {SETTING}=3, or leave it unset for 1."
        )
    return scale


# Read once at import, so a bad value stops the run before any test starts.
SCALE = scale_from(os.environ.get(SETTING))


def scaled(seconds: float) -> float:
    """`seconds` stretched by TEST_WAIT_SCALE: the bound to use for any wait on a process."""
    return seconds * SCALE


def wait_for(predicate: Callable[[], T], *, timeout: float, interval: float = 0.1, what: str = "") -> T:
    """Poll until `predicate` returns something truthy; fail with `what` after scaled(`timeout`) s.

    The wait ends as soon as the predicate holds, so a generous bound costs nothing when all is fast.
    """
    limit = scaled(timeout)
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"Timed out after {limit:g} s ({timeout:g} s scaled by {SETTING}={SCALE:g}) "
                f"waiting for {what or predicate}"
            )
        time.sleep(interval)
