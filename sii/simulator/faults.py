"""Fault injection: rules that make the simulator misbehave the way the real SII was seen to.

A rule matches a path prefix ("/cgi_IMT/") or a method name ("getResumen", "CAutInicio.cgi"),
optionally only for one company's RUT body, and fires `times` times (None = always).
Kinds: bad_credentials, sii_unavailable, session_expired, resp_estado:<code>[:<msg>],
f29_error:<descripcion>, http:<status>, reset, delay:<ms>, bhe_non_report.
"""

import threading
from dataclasses import dataclass

KINDS = frozenset({
    "bad_credentials", "sii_unavailable", "session_expired", "resp_estado", "f29_error",
    "http", "reset", "delay", "bhe_non_report",
})  # fmt: skip


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: str = ""  # the text after the first ':' (code[:msg], descripcion, status, ms)

    @classmethod
    def parse(cls, spec: str) -> "Fault":
        kind, _, arg = spec.partition(":")
        if kind not in KINDS:
            raise ValueError(f"unknown fault {spec!r}; kinds: {', '.join(sorted(KINDS))}")
        if kind in ("http", "delay", "resp_estado") and not arg.partition(":")[0].isdigit():
            raise ValueError(f"fault {spec!r} needs a number after '{kind}:'")
        return cls(kind, arg)


@dataclass
class _Rule:
    target: str
    fault: Fault
    remaining: int | None
    rut: int | None

    def matches(self, path: str, method_name: str, rut: int | None) -> bool:
        on_target = (
            path.startswith(self.target) if self.target.startswith("/") else self.target == method_name
        )
        return on_target and (self.rut is None or self.rut == rut)


class FaultInjector:
    """Thread-safe list of rules; the first matching rule fires and counts down."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def add(self, target: str, fault: str, times: int | None = 1, rut: int | str | None = None) -> None:
        """E.g. add("getResumen", "http:503", times=2); rut may be a body or "76123456-0"."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for always")
        rule = _Rule(target, Fault.parse(fault), times, rut_body(rut))
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, path: str, method_name: str, rut: int | None) -> Fault | None:
        """The fault to apply to this request, if a rule matches (using up one of its times)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(path, method_name, rut):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    return rule.fault
        return None

    def __len__(self) -> int:
        return len(self._rules)


def rut_body(rut: int | str | None) -> int | None:
    if rut is None or rut == "":
        return None
    text = str(rut).replace(".", "").strip().partition("-")[0]
    if not text.isdigit():
        raise ValueError(f"{rut!r} is not a RUT body")
    return int(text)
