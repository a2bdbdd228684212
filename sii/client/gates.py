"""What an SII client asks before each request and tells after each answer: its Gate."""

from typing import Protocol

from sii.client.errors import SiiConnectionError, SiiTimeout, SiiUnavailable

# What says the SII itself cannot answer now (as opposed to answering no): what the gate's breaker counts.
UNAVAILABLE = (SiiUnavailable, SiiTimeout, SiiConnectionError)


class Gate(Protocol):
    """Asked before each request to a surface ("auth", "rcv", "bhe") and told after each answer:
    sii.governor's SiiGovernor paces every worker's requests together and pauses a failing surface."""

    def before(self, *, surface: str) -> bool:
        """Wait for this request's turn (or raise SiiPaused); True when it is a breaker's probe."""

    def after(self, *, surface: str, available: bool, probe: bool) -> bool:
        """Record the answer; True when the surface is paused now: wait and send the call again."""


class OpenGate:
    """No pace, no breaker: every request goes at once (the client alone, as in unit tests)."""

    def before(self, *, surface: str) -> bool:
        return False

    def after(self, *, surface: str, available: bool, probe: bool) -> bool:
        return False
