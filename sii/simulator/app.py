"""SiiSimulator: a WSGI app serving the SII's paths (zeusr, www4, loa) from deterministic data.

Credentials: a RUT registered with register_credentials() (or POST /__sim__/credentials) logs in
with exactly its clave. Any other valid RUT logs in with any non-empty clave except "wrong", so
tests and demos can trigger the bad-credentials page without a control call.

Sessions live in memory (token -> RUT body), behind a lock: the socket server is threaded.
Data: see sii.simulator.data. Faults: see sii.simulator.faults; `sim.faults.add(...)` in-process.
"""

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx

from sii.rut import parse
from sii.simulator import auth, bhe, control, facades, pages
from sii.simulator.faults import Fault, FaultInjector, rut_body
from sii.simulator.wsgi import DropConnection, Request, Response, html, json_response

_RCV = "/consdcvinternetui/services/data/facadeService/"
_F29 = "/propuestaf29ui/services/data/facadeAdapterService/"
Handler = Callable[["SiiSimulator", Request], Response]
ROUTES: dict[str, Handler] = {
    "/cgi_AUT2000/CAutInicio.cgi": auth.login,
    "/cgi_AUT2000/autTermino.cgi": auth.logout,
    **{_RCV + method: facades.rcv for method in ("getResumen", "getDetalleCompra", "getDetalleVenta")},
    _F29 + "getDeclaracionConEstados": facades.f29,
    "/cgi_IMT/TMBCOC_InformeMensualBheRec.cgi": bhe.received,
    "/cgi_IMT/TMBCOC_InformeMensualBhe.cgi": bhe.issued,
}
_SII_TZ = ZoneInfo("America/Santiago")


class SiiSimulator:
    """The WSGI callable. `today` fixes the simulator's calendar (F29 filed, future months empty)."""

    def __init__(self, today: date | None = None) -> None:
        self._today = today
        self.faults = FaultInjector()
        self._credentials: dict[int, str] = {}
        self._sessions: dict[str, int] = {}
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def today(self) -> date:
        return self._today or datetime.now(_SII_TZ).date()

    def register_credentials(self, rut: str, clave: str) -> None:
        with self._lock:
            self._credentials[parse(rut).body] = clave

    def reset(self) -> None:
        """Forget sessions, credentials, faults and request counts."""
        self.faults.clear()
        with self._lock:
            self._credentials.clear()
            self._sessions.clear()
            self._hits.clear()

    def transport(self) -> httpx.WSGITransport:
        """An in-process httpx transport: SiiClient(..., transport=sim.transport())."""
        return _InProcessTransport(app=self)

    def requests_to(self, target: str) -> int:
        """How many requests reached a path prefix ("/cgi_AUT2000/") or method name ("CAutInicio.cgi")."""
        with self._lock:
            hits = list(self._hits.items())
        return sum(n for path, n in hits if _targets(target, path))

    # -- sessions (used by the handlers) ---------------------------------------------------------

    def accepts(self, rut: int, clave: str) -> bool:
        with self._lock:
            registered = self._credentials.get(rut)
        return clave == registered if registered is not None else clave not in ("", "wrong")

    def open_session(self, rut: int) -> str:
        token = secrets.token_hex(16).upper()
        with self._lock:
            self._sessions[token] = rut
        return token

    def session_rut(self, request: Request) -> int | None:
        with self._lock:
            return self._sessions.get(request.cookies.get("TOKEN", ""))

    def end_session(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    # -- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        with self._lock:
            self._hits[request.path] += 1
        response = self.handle(request)
        start_response(response.status_line(), response.header_list())
        return [response.body]

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/__sim__/"):
            return control.handle(self, request)
        handler = ROUTES.get(request.path)
        if handler is None:
            return html(pages.jboss_error(404), status=404)
        fault = self.faults.take(request.path, request.method_name, self._request_rut(request))
        response = self._misbehave(fault, request) if fault else None
        return response or handler(self, request)

    def _request_rut(self, request: Request) -> int | None:
        """The company a request is about: the form/query/body RUT, else the session's."""
        params = request.json.get("data") if isinstance(request.json, dict) else None
        params = params if isinstance(params, dict) else {}
        for value in (request.form.get("rut"), request.query.get("rut_arrastre"), params.get("rutEmisor")):
            if value:
                return _safe_rut(value)
        return _safe_rut(params.get("rut")) if params.get("rut") else self.session_rut(request)

    def _misbehave(self, fault: Fault, request: Request) -> Response | None:
        """The response a fault stands for; None lets the request through (after a delay)."""
        kind, arg = fault.kind, fault.arg
        if kind == "delay":
            time.sleep(int(arg) / 1000)
            return None
        if kind == "reset":
            raise DropConnection
        if kind == "session_expired":
            self.end_session(request.cookies.get("TOKEN", ""))
            return html(pages.login_wall())
        return _FAULT_PAGES[kind](request, arg)


def _fault_resp_estado(request: Request, arg: str) -> Response:
    code, _, message = arg.partition(":")
    meta = request.json.get("metaData") if isinstance(request.json, dict) else None
    return json_response(facades.envelope(meta or {}, None, int(code), message or None))


def _fault_f29_error(request: Request, arg: str) -> Response:
    meta = request.json.get("metaData") if isinstance(request.json, dict) else None
    return json_response(facades.f29_envelope(meta or {}, None, arg or "Error"))


_FAULT_PAGES: dict[str, Callable[[Request, str], Response]] = {
    "bad_credentials": lambda request, arg: html(pages.login_message(pages.BAD_CREDENTIALS)),
    "sii_unavailable": lambda request, arg: html(pages.login_message(pages.UNAVAILABLE)),
    "http": lambda request, arg: html(pages.jboss_error(int(arg)), status=int(arg)),
    "bhe_non_report": lambda request, arg: html(
        pages.bhe_not_authorized(request.query.get("rut_arrastre", ""))
    ),
    "resp_estado": _fault_resp_estado,
    "f29_error": _fault_f29_error,
}


def _targets(target: str, path: str) -> bool:
    return path.startswith(target) if target.startswith("/") else path.rsplit("/", 1)[-1] == target


def _safe_rut(value: object) -> int | None:
    try:
        return rut_body(str(value))
    except ValueError:
        return None


class _InProcessTransport(httpx.WSGITransport):
    """In process there is no socket to close: a dropped connection surfaces as httpx does it."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except DropConnection:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
