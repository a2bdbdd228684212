"""SiiSimulator: the WSGI app that puts the shared state, the SII's routes and fault injection together."""

from collections.abc import Callable, Iterable
from datetime import date

import httpx

from sii.simulator import auth, bhe, control, facades, pages
from sii.simulator.faults import FaultInjector
from sii.simulator.latency import NO_LATENCY, Latency
from sii.simulator.state import SimulatorState
from sii.simulator.wsgi import DropConnection, Request, Response, html

_RCV = "/consdcvinternetui/services/data/facadeService/"
_F29 = "/propuestaf29ui/services/data/facadeAdapterService/"
Handler = Callable[[SimulatorState, Request], Response]
ROUTES: dict[str, Handler] = {
    "/cgi_AUT2000/CAutInicio.cgi": auth.login,
    "/cgi_AUT2000/autTermino.cgi": auth.logout,
    **{_RCV + method: facades.rcv for method in ("getResumen", "getDetalleCompra", "getDetalleVenta")},
    _F29 + "getDeclaracionConEstados": facades.f29,
    "/cgi_IMT/TMBCOC_InformeMensualBheRec.cgi": bhe.received,
    "/cgi_IMT/TMBCOC_InformeMensualBhe.cgi": bhe.issued,
}


class SiiSimulator:
    """The WSGI callable over one SimulatorState; `today` fixes its calendar (F29 filed, future months empty).

    Data: see sii.simulator.data. Faults: see sii.simulator.faults; `sim.faults.add(...)` in-process.
    `latency` delays every SII route's answer (not the control hooks); none by default.
    """

    def __init__(self, today: date | None = None, latency: Latency = NO_LATENCY) -> None:
        self.state = SimulatorState(today)
        self.latency = latency

    @property
    def faults(self) -> FaultInjector:
        return self.state.faults

    @property
    def today(self) -> date:
        return self.state.today

    def register_credentials(self, rut: str, clave: str) -> None:
        self.state.register_credentials(rut, clave)

    def reset(self) -> None:
        """Forget sessions, credentials, faults and request counts."""
        self.state.reset()

    def requests_to(self, target: str) -> int:
        """How many requests reached a path prefix ("/cgi_AUT2000/") or method name ("CAutInicio.cgi")."""
        return self.state.requests_to(target)

    def session_count(self) -> int:
        return self.state.session_count()

    def transport(self) -> httpx.WSGITransport:
        """An in-process httpx transport: SiiClient(..., transport=sim.transport())."""
        return _InProcessTransport(app=self)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        self.state.count_request(request.path)
        if request.path in ROUTES:
            with self.state.traffic.request(request.path, self.state.request_rut(request)):
                response = self.handle(request)
        else:
            response = self.handle(request)
        start_response(response.status_line(), response.header_list())
        return [response.body]

    def handle(self, request: Request) -> Response:
        """Control hooks first; then a matching fault may answer in the route's place."""
        if request.path.startswith(control.PREFIX):
            return control.handle(self.state, request)
        handler = ROUTES.get(request.path)
        if handler is None:
            return html(pages.jboss_error(404), status=404)
        self.latency.wait(request)  # holds no lock: other requests are served meanwhile
        fault = self.state.faults.take(request, self.state.session_rut)
        response = fault.apply(request, self.state) if fault else None
        return response or handler(self.state, request)


class _InProcessTransport(httpx.WSGITransport):
    """In process there is no socket to close: a dropped connection surfaces as httpx does it."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except DropConnection:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
