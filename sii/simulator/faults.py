"""Fault injection: the catalog of the SII's observed misbehaviours, and the rules that fire them."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, Protocol

from sii.simulator import pages
from sii.simulator.envelopes import f29_envelope, rcv_envelope
from sii.simulator.wsgi import DropConnection, Request, Response, html, json_response


class Sessions(Protocol):
    """The one piece of the simulator's state a fault may change."""

    def end_session(self, token: str) -> None: ...


# An effect answers in place of the route, or returns None to let the request through.
Effect = Callable[[Request, str, Sessions], Response | None]


# -- the catalog: a fault spec is "kind" or "kind:arg"; each effect says what the SII did ----------


def _bad_credentials(request: Request, arg: str, sessions: Sessions) -> Response:
    """CAutInicio.cgi's wrong-clave page: HTTP 200, still on zeusr."""
    return html(pages.login_message(pages.BAD_CREDENTIALS))


def _sii_unavailable(request: Request, arg: str, sessions: Sessions) -> Response:
    """The login page's "try again later" message."""
    return html(pages.login_message(pages.UNAVAILABLE))


def _session_expired(request: Request, arg: str, sessions: Sessions) -> Response:
    """The session ends server-side and the page is the login wall."""
    sessions.end_session(request.cookies.get("TOKEN", ""))
    return html(pages.login_wall())


# The messages §9 saw with these codes, used when the spec names none.
_RESP_MESSAGES = {
    98: "requiere redirección",
    99: "Periodo consultado no válido, debe ser mayor igual a 201705",
}


def _resp_estado(request: Request, arg: str, sessions: Sessions) -> Response:
    """resp_estado:<code>[:<message>]: an RCV envelope with that respEstado and data null
    (98: the session no longer serves this app; 99: an empty or rejected answer; 3: no movement)."""
    code, _, message = arg.partition(":")
    text = message or _RESP_MESSAGES.get(int(code))
    detail = request.method_name != "getResumen"
    return json_response(rcv_envelope(_meta(request), None, int(code), text, detail=detail))


def _error_msg(request: Request, arg: str, sessions: Sessions) -> Response:
    """error_msg[:<text>]: a rejection with no respEstado at all, as §9 saw it."""
    return json_response({"errorMsg": arg or "Acceso no autorizado!"})


def _f29_error(request: Request, arg: str, sessions: Sessions) -> Response:
    """f29_error:<descripcion>: an F29 envelope carrying that error."""
    return json_response(f29_envelope(_meta(request), None, arg or "Error"))


def _http(request: Request, arg: str, sessions: Sessions) -> Response:
    """http:<status>: JBoss's error page with that status."""
    return html(pages.jboss_error(int(arg)), status=int(arg))


def _reset(request: Request, arg: str, sessions: Sessions) -> NoReturn:
    """The connection closes without any response (the SII's socket hang-up / IP block)."""
    raise DropConnection


def _delay(request: Request, arg: str, sessions: Sessions) -> None:
    """delay:<ms>: the normal answer, that many milliseconds later."""
    time.sleep(int(arg) / 1000)


def _bhe_non_report(request: Request, arg: str, sessions: Sessions) -> Response:
    """loa's non-report page for the queried RUT."""
    return html(pages.bhe_not_authorized(request.query.get("rut_arrastre", "")))


def _bhe_repeat_first_page(request: Request, arg: str, sessions: Sessions) -> None:
    """bhe_repeat_first_page[:<n>]: whatever page is asked, loa serves page 1 again (reported by
    another client, §9); with n the month holds n boletas, so there are pages to miss.
    Add it with times=None so every page of the month repeats."""
    request.overrides["pagina_solicitada"] = "1"
    if arg:
        request.overrides["bhe_count"] = arg


def _bhe_count(request: Request, arg: str, sessions: Sessions) -> None:
    """bhe_count:<n>[:<YYYYMM>]: the month (any month, or only that one) holds n boletas, its usual
    ones first. Add it with times=None: it must hold on every page read."""
    request.overrides["bhe_count"] = arg


def _meta(request: Request) -> dict:
    meta = request.json.get("metaData") if isinstance(request.json, dict) else None
    return meta or {}


# Where a fault usually goes: a method name, or a path prefix (every BHE report).
LOGIN, RESUMEN, F29, BHE = "CAutInicio.cgi", "getResumen", "getDeclaracionConEstados", "/cgi_IMT/"


@dataclass(frozen=True)
class Kind:
    effect: Effect
    numeric: bool = False  # the spec must carry a number after "kind:"
    # For people (README, the admin's faults page): what the SII seems to do, and where it fits.
    what: str = ""
    arg: str = ""  # the text after "kind:", if any
    target: str = LOGIN


KINDS: dict[str, Kind] = {
    "bad_credentials": Kind(
        _bad_credentials, what="The login says the clave is wrong: the sync fails at once, never retried, "
        "and the company's clave is marked as rejected until it is changed in the admin."),
    "sii_unavailable": Kind(
        _sii_unavailable, what="The login says 'try again later': the sync retries with backoff."),
    "session_expired": Kind(
        _session_expired, target=RESUMEN, what="The session ends and the login wall is served: the "
        "client logs in again once; twice in a row, the sync retries later."),
    "resp_estado": Kind(
        _resp_estado, numeric=True, arg="<code>[:<message>]", target=RESUMEN, what="An RCV answer with "
        "that respEstado and no data: 98 (session lost: log in again), 99 (rejected), 3 (no movement)."),
    "f29_error": Kind(
        _f29_error, arg="[<text>]", target=F29, what="An F29 answer carrying that error: the sync fails."),
    "http": Kind(
        _http, numeric=True, arg="<status>", target=RESUMEN, what="JBoss's error page with that status: "
        "5xx retries, 401/403 fail as not authorised, other 4xx fail as rejected."),
    "reset": Kind(
        _reset, target=RESUMEN, what="The connection closes without an answer (a hang-up or an IP "
        "block): the sync retries."),
    "delay": Kind(
        _delay, numeric=True, arg="<ms>", target=RESUMEN, what="The normal answer, that many milliseconds "
        "later (on top of the latency): time to watch, revoke or terminate a sync."),
    "bhe_non_report": Kind(
        _bhe_non_report, target=BHE, what="loa's 'not authorised for this RUT' page: the sync fails."),
    "error_msg": Kind(
        _error_msg, arg="[<text>]", target=RESUMEN, what="An RCV refusal with no respEstado "
        "(default 'Acceso no autorizado!'): the sync fails."),
    "bhe_repeat_first_page": Kind(
        _bhe_repeat_first_page, arg="[<n>]", target=BHE, what="Every BHE page asked is page 1 again; "
        "with n the month holds n boletas: the month is incomplete and the sync retries. Set it always."),
    "bhe_count": Kind(
        _bhe_count, numeric=True, arg="<n>[:<YYYYMM>]", target=BHE, what="The month (or only that one) "
        "holds n boletas, paged by 100. Set it always."),
}  # fmt: skip


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: str = ""  # the text after the first ':' (code[:msg], descripcion, status, ms, count[:period])

    @classmethod
    def parse(cls, spec: str) -> "Fault":
        kind, _, arg = spec.partition(":")
        if kind not in KINDS:
            raise ValueError(f"unknown fault {spec!r}; kinds: {', '.join(sorted(KINDS))}")
        if KINDS[kind].numeric and not arg.partition(":")[0].isdigit():
            raise ValueError(f"fault {spec!r} needs a number after '{kind}:'")
        return cls(kind, arg)

    @property
    def spec(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else self.kind

    def apply(self, request: Request, sessions: Sessions) -> Response | None:
        """The response this fault stands for; None lets the request through (after a delay)."""
        return KINDS[self.kind].effect(request, self.arg, sessions)


# -- the rules: which requests a fault fires on, and how many times ---------------------------------


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
    """Thread-safe list of rules; the first matching rule fires and counts down.

    A rule matches a path prefix ("/cgi_IMT/") or a method name ("getResumen", "CAutInicio.cgi"),
    optionally only for one company's RUT body, and fires `times` times (None = always).
    """

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

    def clear(self, rut: int | str | None = None) -> None:
        """Forget every rule, or only those of one company (its RUT body or "76123456-0")."""
        only = rut_body(rut)
        with self._lock:
            self._rules[:] = [rule for rule in self._rules if only is not None and rule.rut != only]

    def rules(self) -> list[dict]:
        """The rules waiting to fire, oldest first: target, fault spec, times left (None = always), RUT body."""
        with self._lock:
            rules = list(self._rules)
        return [{"path": r.target, "fault": r.fault.spec, "times": r.remaining, "rut": r.rut} for r in rules]

    def take(self, request: Request, session_rut: Callable[[Request], int | None]) -> Fault | None:
        """The fault to apply to this request, if a rule matches (using up one of its times)."""
        rut = request_rut(request, session_rut)
        with self._lock:
            rule = next((r for r in self._rules if r.matches(request.path, request.method_name, rut)), None)
            if rule is not None and rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
        return rule.fault if rule else None

    def __len__(self) -> int:
        return len(self._rules)


def request_rut(request: Request, session_rut: Callable[[Request], int | None]) -> int | None:
    """The company a request is about: the form/query/body RUT, else the session's."""
    params = request.json.get("data") if isinstance(request.json, dict) else None
    params = params if isinstance(params, dict) else {}
    named = (
        request.form.get("rut"),
        request.query.get("rut_arrastre"),
        params.get("rutEmisor"),
        params.get("rut"),
    )
    value = next((value for value in named if value), None)
    # A RUT that is named but unreadable matches no company: the session's must not stand in for it.
    return _safe_rut(value) if value is not None else session_rut(request)


def rut_body(rut: int | str | None) -> int | None:
    if rut is None or rut == "":
        return None
    text = str(rut).replace(".", "").strip().partition("-")[0]
    if not text.isdigit():
        raise ValueError(f"{rut!r} is not a RUT body")
    return int(text)


def _safe_rut(value: object) -> int | None:
    try:
        return rut_body(str(value))
    except ValueError:
        return None
