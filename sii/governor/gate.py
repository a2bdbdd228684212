"""SiiGovernor: what the SII client asks before each request and tells after it (its Gate)."""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Literal

from sii.client.errors import SiiPaused
from sii.governor.rules import BreakerRule, Pace, State, Verdict, breaker_admit, breaker_record, slot_take
from sii.governor.stores import Store

# A paused sync looks at its surface's breaker at least this often, so it resumes within about a
# second of the SII answering again.
PAUSE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Wait:
    """A wait worth telling the run's watchers: for the pace, or for the SII to answer again."""

    kind: Literal["pace", "paused"]
    surface: str
    seconds: float  # how long it is expected to last
    since: float = 0.0  # paused: when the breaker opened (epoch seconds)


@dataclass(frozen=True)
class GovernorConfig:
    paces: Mapping[str, Pace]  # per surface: "auth", "rcv", "bhe"
    breaker: BreakerRule
    max_pause: float  # seconds one client waits in place for a paused surface before SiiPaused
    report_after: float = 2.0  # waits at least this long are reported


def _ignored(_: Wait | None) -> None:
    """Reports nowhere."""


class SiiGovernor:
    """Paces a client's requests with every other client's and holds them while the SII is down.

    `on_wait` hears each reported wait as it starts, and None when it is over.
    """

    def __init__(
        self,
        *,
        store: Store,
        config: GovernorConfig,
        on_wait: Callable[[Wait | None], None] = _ignored,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store, self._config, self._on_wait, self._sleep = store, config, on_wait, sleep
        self._paused_for = 0.0
        self._told: Wait | None = None

    def before(self, *, surface: str) -> bool:
        """Wait for the request's turn; True when it is the probe of a paused surface.

        The breaker is asked once the turn has come: a request that queued for the pace while the
        SII was answering must not go once it has stopped; no turn is taken while it is paused."""
        while True:
            self._paced(surface)
            verdict = self._admitted(surface)
            if verdict is not None:
                self._tell(None)
                return verdict

    def _paced(self, surface: str) -> None:
        pace = self._config.paces[surface]
        wait = self._store.change(f"pace:{surface}", partial(slot_take, pace=pace))
        if wait >= self._config.report_after:
            self._tell(Wait("pace", surface, wait))
        if wait > 0:
            self._sleep(wait)

    def after(self, *, surface: str, available: bool, probe: bool) -> bool:
        """Record an answer; True when the surface is paused now (the caller waits and tries again)."""
        key, rule = f"breaker:{surface}", self._config.breaker
        state, now = self._store.read(key)
        if breaker_record(state, now, rule, available=available, probe=probe) is None:
            return not available and "opened_at" in state
        record = partial(_recorded, rule=rule, available=available, probe=probe)
        return self._store.change(key, record)

    def _admitted(self, surface: str) -> bool | None:
        """True for the surface's probe (taken atomically: one worker gets it), False to go; None
        when it is paused, after waiting in place until it may be asked again (a new turn then)."""
        key, rule = f"breaker:{surface}", self._config.breaker
        state, now = self._store.read(key)
        changed, verdict = breaker_admit(state, now, rule)
        if changed is not None:
            verdict = self._store.change(key, partial(breaker_admit, rule=rule))
        while verdict.kind == "paused":
            self._pause(surface, verdict, now)
            state, now = self._store.read(key)
            _, verdict = breaker_admit(state, now, rule)
            if verdict.kind != "paused":
                return None
        return verdict.kind == "probe"

    def _pause(self, surface: str, verdict: Verdict, now: float) -> None:
        if self._paused_for >= self._config.max_pause:
            self._tell(None)
            raise SiiPaused(
                surface=surface, since=verdict.since, until=verdict.until, retry_in=verdict.until - now
            )
        if self._told is None or self._told.kind != "paused":
            self._tell(Wait("paused", surface, verdict.until - now, verdict.since))
        step = min(max(verdict.until - now, 0.05), PAUSE_POLL_SECONDS)
        self._paused_for += step
        self._sleep(step)

    def _tell(self, wait: Wait | None) -> None:
        """Report a wait as it starts and its end once: a paused sync polls, it does not re-report."""
        if wait != self._told:
            self._told = wait
            self._on_wait(wait)


def _recorded(
    state: State, now: float, *, rule: BreakerRule, available: bool, probe: bool
) -> tuple[State | None, bool]:
    changed = breaker_record(state, now, rule, available=available, probe=probe)
    after = state if changed is None else changed
    return changed, not available and "opened_at" in after
