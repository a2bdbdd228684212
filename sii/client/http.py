"""SiiClient: one SII session (clave login) over httpx for the RCV, BHE and F29 surfaces."""

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import TypedDict, TypeVar, Unpack

import httpx
from httpx import BaseTransport

from sii.client import bodies, failures
from sii.client.errors import (
    SiiBadCredentials,
    SiiError,
    SiiIncompleteMonth,
    SiiPaused,
    SiiSessionExpired,
    error_outcome,
)
from sii.client.gates import UNAVAILABLE, Gate, OpenGate
from sii.client.parsers import (
    BheReport,
    document_row,
    f29_row,
    fee_receipt_row,
    issued_fee_receipt_row,
    parse_bhe_report,
    parse_datetime,
    summary_row,
)
from sii.client.sessions import SessionCookies, cookies_export, cookies_import
from sii.client.types import (
    EstadoContable,
    F29Row,
    FeeReceiptRow,
    JsonObject,
    Operacion,
    RcvDocumentRow,
    RcvResumen,
)
from sii.rut import Rut

logger = logging.getLogger("sii.client")
T = TypeVar("T")
_PERIOD = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")
_LOGIN_PATH = "/cgi_AUT2000/CAutInicio.cgi"
_LOGOUT_PATH = "/cgi_AUT2000/autTermino.cgi"
_RCV_PATH = "/consdcvinternetui/services/data/facadeService/"
_F29_PATH = "/propuestaf29ui/services/data/facadeAdapterService/"
_REFERENCIA = "https://misiir.sii.cl/cgi_misii/siihome.cgi"
_BHE_MAX_PAGES = 500  # a runaway guard: 50,000 boletas a month at MAXFILAS=100


@dataclass(frozen=True)
class _BheReportKind:
    """One of loa's two monthly BHE reports; both take the same parameters and share one page shape."""

    what: str  # names the report in logs and errors
    monthly_path: str
    annual_path: str  # sent as the Referer, as the portal does


_BHE_RECIBIDAS = _BheReportKind(
    "bhe", "/cgi_IMT/TMBCOC_InformeMensualBheRec.cgi", "/cgi_IMT/TMBCOC_InformeAnualBheRec.cgi"
)
# [I] The issued page's xml_values totals (total_boletas / cant_boletas, suma_*) are assumed to use
# the received page's keys: no capture of the issued page's totals was found (contracts §2.1, §9).
_BHE_EMITIDAS = _BheReportKind(
    "bhe emitidas", "/cgi_IMT/TMBCOC_InformeMensualBhe.cgi", "/cgi_IMT/TMBCOC_InformeAnualBhe.cgi"
)


def _ignored(**_: object) -> None:
    """A callback that reports nowhere (the default: the client stands alone)."""


@dataclass(frozen=True)
class SiiClientConfig:
    """Where the SII is and how to talk to it; sii.services.clients builds it from the settings.

    Each call's outcome and each request's time are reported through the callbacks, so this
    package imports neither Django nor a metrics store: the factory passes sii.metrics' in."""

    base_urls: Mapping[str, str]  # one base URL per surface: "auth", "rcv" and "bhe"
    timeout: float  # seconds, for each HTTP request
    request_interval: float  # the least seconds between two requests of one client
    # on_call(what=, outcome=): ok, session_lost, or the error raised (error_outcome's name).
    on_call: Callable[..., None] = _ignored
    # on_request(what=, elapsed=): seconds one HTTP request took (an answer or a transport error).
    on_request: Callable[..., None] = _ignored


class _RequestOptions(TypedDict, total=False):
    """The httpx request options this client uses."""

    data: dict[str, str]
    json: JsonObject
    params: dict[str, str]
    headers: dict[str, str]


class SiiClient:
    """Log in lazily, call the SII, and return typed rows; every failure is a sii.client.errors type."""

    def __init__(
        self,
        *,
        rut: Rut,
        password: str,
        config: SiiClientConfig,
        transport: BaseTransport | None = None,
        gate: Gate | None = None,
        session: SessionCookies | None = None,
        on_session: Callable[[SessionCookies | None], None] | None = None,
    ) -> None:
        """`session`: the cookies of a session an earlier client logged in (used until the SII
        refuses them). With `on_session`, the session is kept: each login's cookies are handed to
        it (None once the clave is refused) and close() does not log out."""
        self.rut = rut
        self._password = password
        self._urls = {surface: config.base_urls[surface].rstrip("/") for surface in ("auth", "rcv", "bhe")}
        self._interval = config.request_interval
        self._on_call, self._on_request = config.on_call, config.on_request
        # Never follow redirects: a 302 to the login page or to a waiting room is the SII's answer.
        self._http = httpx.Client(transport=transport, timeout=config.timeout, follow_redirects=False)
        self._http.headers["User-Agent"] = bodies.BROWSER_USER_AGENT
        self._token: str | None = None
        self._login_refused: str | None = None  # the SII's bad-credentials message, once seen
        self._last_request_at: float | None = None
        self._gate = gate or OpenGate()
        self._sent: tuple[str, bool] | None = None  # the last request's surface, and whether it probed
        self._on_session = on_session
        if session:
            cookies_import(self._http.cookies, session)
            self._token = self._cookie("TOKEN")

    def __repr__(self) -> str:
        return f"SiiClient(rut={self.rut}, logged_in={self._token is not None})"

    def __enter__(self) -> "SiiClient":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Best-effort logout (frees the SII session) unless it is kept, then close the connection pool."""
        if self._token is not None and self._on_session is None:
            try:
                self._counted("logout", lambda: self._request("auth", "logout", "", "GET", _LOGOUT_PATH))
            except SiiError:
                logger.info("sii logout failed; the session will expire on its own")
            self._token = None
        self._http.close()

    # -- login ---------------------------------------------------------------------------------

    def login(self) -> None:
        """One login attempt. After bad credentials, refuse without a request: the SII locks accounts."""
        if self._login_refused is not None:
            raise SiiBadCredentials(self._login_refused)
        self._token = None
        self._http.cookies.clear()
        try:
            token = self._counted("login", self._login_call)
        except SiiBadCredentials as exc:
            self._login_refused = str(exc)
            if self._on_session is not None:
                self._on_session(None)
            raise
        self._token = token
        if self._on_session is not None:
            self._on_session(cookies_export(self._http.cookies))

    def _login_call(self) -> str | None:
        response = self._request("auth", "login", "", "POST", _LOGIN_PATH, **self._login_request())
        token = self._cookie("TOKEN")
        failures.check_status(response, "login", session_surface=False)
        failures.check_login(response, has_token=bool(token))
        return token

    def _login_request(self) -> _RequestOptions:
        referer = f"{self._urls['auth']}/AUT2000/InicioAutenticacion/IngresoRutClave.html?{_REFERENCIA}"
        form = bodies.login_form(self.rut, self._password, _REFERENCIA)
        return {"data": form, "headers": {"Referer": referer}}

    # -- RCV -----------------------------------------------------------------------------------

    def rcv_resumen(
        self, *, period: str, operacion: Operacion, estado: EstadoContable = "REGISTRO"
    ) -> RcvResumen:
        """getResumen: per-type totals; codRespuesta 3 (no movement) is an empty resumen."""
        _check_period(period)

        def body() -> JsonObject:
            return bodies.rcv_resumen(self._token or "", self.rut, period, operacion, estado)

        rows, envelope = self._session_call("getResumen", period, lambda: self._post_rcv(body(), period))
        with failures.unexpected_rows(f"getResumen {period}"):
            cabecera = envelope.get("dataCabecera") or {}
            modified_at = parse_datetime(cabecera.get("dcvFecModificacion"))
            return RcvResumen(rows=[summary_row(row) for row in rows], modified_at=modified_at)

    def rcv_detalle(
        self, *, period: str, operacion: Operacion, tipo_doc: int, estado: EstadoContable = "REGISTRO"
    ) -> list[RcvDocumentRow]:
        """getDetalleCompra / getDetalleVenta for one type; codRespuesta 99 (no data) is empty."""
        _check_period(period)
        method = bodies.rcv_detail_method(operacion)

        def body() -> JsonObject:
            return bodies.rcv_detalle(self._token or "", self.rut, period, operacion, tipo_doc, estado)

        rows, _ = self._session_call(method, period, lambda: self._post_rcv(body(), period))
        # The SII may leave detTipoDoc and dcvEstadoContab null: they are the request's.
        request_estado = estado if operacion == "COMPRA" else None
        with failures.unexpected_rows(f"{method} {period} tipo {tipo_doc}"):
            return [document_row(row, tipo_doc=tipo_doc, estado=request_estado) for row in rows]

    def _post_rcv(self, body: JsonObject, period: str) -> tuple[list[JsonObject], JsonObject]:
        """One RCV call, checked down to respEstado (inside the re-login scope: 98 and 99 may
        mean 'log in again')."""
        namespace = body["metaData"]["namespace"]
        method = namespace.rsplit("/", 1)[-1]
        referer = self._urls["rcv"] + "/consdcvinternetui/"
        envelope = self._post_json(method, period, body, _RCV_PATH + method, referer=referer)
        failures.check_namespace(envelope, namespace, f"{method} {period}")
        return failures.rcv_rows(envelope, f"{method} {period}"), envelope

    # -- F29 -----------------------------------------------------------------------------------

    def f29_declaraciones(self, *, period: str) -> list[F29Row]:
        """getDeclaracionConEstados for one month: every declaration of the period ([] if none)."""
        _check_period(period)
        method = bodies.F29_METHOD

        def call() -> list[JsonObject]:
            body = bodies.f29_estados(self._token or "", self.rut, period)
            referer = self._urls["rcv"] + "/propuestaf29ui/"
            envelope = self._post_json(method, period, body, _F29_PATH + method, referer=referer)
            failures.check_namespace(envelope, body["metaData"]["namespace"], f"{method} {period}")
            return failures.f29_rows(envelope, f"{method} {period}")

        rows = self._session_call(method, period, call)
        with failures.unexpected_rows(method):
            return [f29_row(row) for row in rows]

    def _post_json(
        self, method: str, period: str, body: JsonObject, path: str, *, referer: str
    ) -> JsonObject:
        headers = {
            "Accept": "application/json, text/plain, */*",
            "Origin": self._urls["rcv"],
            "Referer": referer,
        }
        response = self._request("rcv", method, period, "POST", path, json=body, headers=headers)
        failures.check_status(response, f"{method} {period}", session_surface=True)
        return failures.json_body(response, f"{method} {period}")

    # -- BHE -----------------------------------------------------------------------------------

    def bhe_recibidas(self, *, period: str) -> list[FeeReceiptRow]:
        """The boletas the company received in the period (it is the receptor)."""
        rows, _ = self._bhe_month(_BHE_RECIBIDAS, period)
        with failures.unexpected_rows(f"{_BHE_RECIBIDAS.what} {period}"):
            return [fee_receipt_row(row) for row in rows]

    def bhe_emitidas(self, *, period: str) -> list[FeeReceiptRow]:
        """The boletas the company issued in the period: it is the issuer of every row."""
        rows, meta = self._bhe_month(_BHE_EMITIDAS, period)
        # The rows name no issuer; the page names the session's company in nombre_contribuyente.
        issuer = (self.rut.body, self.rut.dv, meta.get("nombre_contribuyente", ""))
        with failures.unexpected_rows(f"{_BHE_EMITIDAS.what} {period}"):
            return [issued_fee_receipt_row(row, issuer=issuer) for row in rows]

    def _bhe_month(
        self, report_kind: _BheReportKind, period: str
    ) -> tuple[list[dict[str, str]], dict[str, str]]:
        """Walk pagina_solicitada from 1 (the first page, §9) until the declared count is reached or a
        page adds nothing new; fewer rows than declared is SiiIncompleteMonth. Gives the rows and the
        last page's xml_values."""
        _check_period(period)
        what = report_kind.what
        rows: dict[tuple[str, str], dict[str, str]] = {}
        for page in range(1, _BHE_MAX_PAGES + 1):
            report = self._session_call(what, period, partial(self._bhe_page, report_kind, period, page))
            # Issued rows carry no rutemisor: their key is ("", nroboleta), the issuer being fixed.
            fresh = {(r.get("rutemisor", ""), r.get("nroboleta", "")): r for r in report.rows}
            added = fresh.keys() - rows.keys()
            rows.update(fresh)
            if not added or len(rows) >= report.total:
                break  # complete, or a page that repeats rows already seen (the CGI may repeat page 1)
        if len(rows) < report.total:
            raise SiiIncompleteMonth(
                f"{what} {period}: the SII listed {len(rows)} of the {report.total} boletas it declares"
            )
        return list(rows.values()), report.meta

    def _bhe_page(self, report_kind: _BheReportKind, period: str, page: int) -> BheReport:
        base, what = self._urls["bhe"], report_kind.what
        params = bodies.bhe_params(self.rut, period, page)
        # Without a Referer (the portal's annual report) loa answers "host no definido".
        headers = {"Referer": base + report_kind.annual_path}
        response = self._request(
            "bhe", what, period, "GET", report_kind.monthly_path, params=params, headers=headers
        )
        failures.check_status(response, what, session_surface=True)
        html = response.content.decode(response.charset_encoding or "iso-8859-1", errors="replace")
        failures.check_bhe_page(html, what)
        return parse_bhe_report(html)

    # -- plumbing ------------------------------------------------------------------------------

    def _session_call(self, what: str, period: str, call: Callable[[], T]) -> T:
        """Log in if needed; on the login wall log in again once and repeat, then give up."""
        if self._token is None:
            self.login()
        try:
            return self._counted(what, call)
        except failures.SessionLost:
            logger.info("sii session lost during %s %s; logging in again", what, period)
        self.login()
        try:
            return self._counted(what, call)
        except failures.SessionLost:
            raise SiiSessionExpired(f"{what}: the SII asked for a login again right after one.") from None

    def _request(
        self, surface: str, what: str, period: str, method: str, path: str, **options: Unpack[_RequestOptions]
    ) -> httpx.Response:
        """One HTTP request to `path` on the surface's base URL, in its turn (the gate, then this
        session's own pace)."""
        self._sent = (surface, self._gate.before(surface=surface))
        self._pace()
        url = self._urls[surface] + path
        started = time.monotonic()
        try:
            response = self._http.request(method, url, **options)
        except httpx.TransportError as exc:
            elapsed = time.monotonic() - started
            logger.info("sii %s %s failed after %.3fs: %s", what, period, elapsed, type(exc).__name__)
            self._on_request(what=what, elapsed=elapsed)
            raise failures.transport_error(exc, what) from exc
        elapsed = time.monotonic() - started
        logger.debug("sii %s %s -> %s in %.3fs", what, period, response.status_code, elapsed)
        self._on_request(what=what, elapsed=elapsed)
        return response

    def _counted(self, what: str, call: Callable[[], T]) -> T:
        """call(), its outcome reported (ok, session_lost, or the error it raised) to the callbacks
        and the gate; sent again when the gate paused its surface meanwhile (the gate's wait is bounded)."""
        while True:
            self._sent = None
            try:
                result = call()
            except failures.SessionLost:
                self._on_call(what=what, outcome="session_lost")
                self._answered(available=True)
                raise
            except SiiPaused:
                raise  # no request was sent
            except SiiError as exc:
                self._on_call(what=what, outcome=error_outcome(exc))
                if self._answered(available=not isinstance(exc, UNAVAILABLE)):
                    continue
                raise
            self._on_call(what=what, outcome="ok")
            self._answered(available=True)
            return result

    def _answered(self, *, available: bool) -> bool:
        """Tell the gate how the last request went; True when its surface is paused now."""
        if self._sent is None:
            return False
        surface, probe = self._sent
        return self._gate.after(surface=surface, available=available, probe=probe)

    def _cookie(self, name: str) -> str | None:
        values = [cookie.value for cookie in self._http.cookies.jar if cookie.name == name]
        return values[-1] if values else None

    def _pace(self) -> None:
        """Keep consecutive requests of this client at least request_interval seconds apart."""
        now = time.monotonic()
        if self._interval > 0 and self._last_request_at is not None:
            wait = self._last_request_at + self._interval - now
            if wait > 0:
                time.sleep(wait)
                now = time.monotonic()
        self._last_request_at = now


def _check_period(period: str) -> None:
    if not _PERIOD.match(period):
        raise ValueError(f"period must be 'YYYYMM', got {period!r}")
