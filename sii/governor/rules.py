"""The governor's rules as pure functions of a stored state and the time (seconds since the epoch).

Pace: GCRA (the generic cell rate algorithm) in its scheduling form. The state is the theoretical
arrival time of the next request; each caller reserves the next slot and waits for it, so callers
are served in the order they asked and no one polls. Breaker: a surface whose answers say the SII is
unavailable `threshold` times in a row opens; while open, one probe at a time (every `backoff`
seconds, doubling up to `max_backoff`) tests it; any answer that is not "unavailable" closes it.
"""

from dataclasses import dataclass
from typing import Literal, NamedTuple

State = dict[str, float]


@dataclass(frozen=True)
class Pace:
    """At most `rate` requests a second on average, `burst` of them at once after a quiet spell."""

    rate: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a pace needs a rate above 0 and a burst of at least 1")


@dataclass(frozen=True)
class BreakerRule:
    threshold: int  # unavailable answers in a row that open the breaker
    backoff: float  # seconds from opening to the first probe
    max_backoff: float
    probe_timeout: float  # a probe not reported by then (its worker died) lets another go


class Verdict(NamedTuple):
    """What a request may do: go, go as the probe, or wait (the surface is paused)."""

    kind: Literal["go", "probe", "paused"]
    since: float = 0.0  # when the breaker opened
    until: float = 0.0  # when the next probe may go


GO = Verdict("go")


def slot_take(state: State, now: float, pace: Pace) -> tuple[State, float]:
    """Reserve the next slot of the pace: the new state, and how many seconds to wait for it."""
    interval = 1 / pace.rate
    due = max(state.get("tat", now), now)
    wait = max(0.0, due - now - (pace.burst - 1) * interval)
    return {"tat": due + interval}, wait


def breaker_admit(state: State, now: float, rule: BreakerRule) -> tuple[State | None, Verdict]:
    """Whether a request may go now; the state to store when it changes (a probe taken), else None."""
    since = state.get("opened_at")
    if since is None:
        return None, GO
    until = max(state["retry_at"], state.get("probe_until", 0.0))
    if now < until:
        return None, Verdict("paused", since, until)
    return {**state, "probe_until": now + rule.probe_timeout}, Verdict("probe", since, now)


def breaker_record(
    state: State, now: float, rule: BreakerRule, *, available: bool, probe: bool
) -> State | None:
    """The state after an answer (None: unchanged). `available`: anything but the SII saying it
    cannot answer (a rejection or a login wall is an answer); `probe`: the request was the probe."""
    opened = state.get("opened_at") is not None
    if available:
        return {} if opened or state.get("failures") else None
    if opened:
        # A request sent before the breaker opened says nothing new; a failed probe backs off.
        return _backed_off(state, now, rule) if probe else None
    failures = state.get("failures", 0) + 1
    if failures < rule.threshold:
        return {"failures": failures}
    return {"failures": failures, "opened_at": now, "backoff": rule.backoff, "retry_at": now + rule.backoff}


def _backed_off(state: State, now: float, rule: BreakerRule) -> State:
    backoff = min(state["backoff"] * 2, rule.max_backoff)
    return {**state, "backoff": backoff, "retry_at": now + backoff, "probe_until": 0.0}
