"""zeusr's login and logout: CAutInicio.cgi sets the session cookies, autTermino.cgi ends the session."""

from sii.rut import check_digit
from sii.simulator import pages
from sii.simulator.state import SimulatorState
from sii.simulator.wsgi import Request, Response, html

_SESSION_COOKIES = ("TOKEN", "CSESSIONID", "NETSCAPE_LIVEWIRE.rut", "NETSCAPE_LIVEWIRE.dv", "RUT_NS", "DV_NS")


def login(state: SimulatorState, request: Request) -> Response:
    """A good login answers 302 to `referencia` with the cookies; a bad one stays on zeusr with a message."""
    if request.method != "POST":
        return html(pages.login_wall())
    form = request.form
    rut, dv, clave = form.get("rut", ""), form.get("dv", "").upper(), form.get("clave", "")
    if not (rut.isdigit() and check_digit(int(rut)) == dv and state.accepts(int(rut), clave)):
        return html(pages.login_message(pages.BAD_CREDENTIALS))
    token = state.open_session(int(rut))
    response = html(pages.login_message("Autenticación exitosa."), status=302)
    response.headers += [("Location", form.get("referencia") or "/"), *_session_cookies(token, rut, dv)]
    return response


def _session_cookies(token: str, rut: str, dv: str) -> list[tuple[str, str]]:
    # The SII sets the token twice and the RUT twice, under the names its older pages read.
    values = (token, token, rut, dv, rut, dv)
    return [
        ("Set-Cookie", f"{name}={value}; Path=/")
        for name, value in zip(_SESSION_COOKIES, values, strict=True)
    ]


def logout(state: SimulatorState, request: Request) -> Response:
    state.end_session(request.cookies.get("TOKEN", ""))
    response = html(pages.logged_out())
    response.headers += [("Set-Cookie", f"{name}=; Path=/; Max-Age=0") for name in _SESSION_COOKIES]
    return response
