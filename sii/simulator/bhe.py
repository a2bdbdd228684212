"""loa's monthly BHE reports (received and issued): session-keyed, paged, iso-8859-1 HTML."""

import math
import re

from sii.simulator import pages
from sii.simulator.data import fee_receipts
from sii.simulator.state import SimulatorState
from sii.simulator.wsgi import Request, Response, html

PAGE_SIZE = 10  # [I] not confirmed live
_YEAR, _MONTH = re.compile(r"^\d{4}$"), re.compile(r"^(0[1-9]|1[0-2])$")


def received(state: SimulatorState, request: Request) -> Response:
    """TMBCOC_InformeMensualBheRec.cgi: the session company's BHE of one month, PAGE_SIZE rows a page."""
    rut = state.session_rut(request)
    if rut is None:
        return html(pages.login_wall())
    params = request.query if request.method == "GET" else request.form
    refusal = _refusal(request, params, rut)
    if refusal:
        return refusal
    rows = _month_rows(
        state, rut, params.get("cbanoinformemensual", ""), params.get("cbmesinformemensual", "")
    )
    page = int(params["pagina_solicitada"]) if params.get("pagina_solicitada", "").isdigit() else 0
    return html(pages.bhe_report(_meta(rows, page), rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]))


def _refusal(request: Request, params: dict[str, str], rut: int) -> Response | None:
    # These CGIs refuse requests without a browser User-Agent and a Referer.
    if "mozilla" not in request.headers.get("user-agent", "").lower() or not request.headers.get("referer"):
        return html(pages.bhe_host_undefined())
    if params.get("rut_arrastre", "") != str(rut):
        return html(pages.bhe_not_authorized(params.get("rut_arrastre", "")))
    return None


def issued(state: SimulatorState, request: Request) -> Response:
    """TMBCOC_InformeMensualBhe.cgi: companies in the simulator issue no BHE, so any query gets an empty report."""
    if state.session_rut(request) is None:
        return html(pages.login_wall())
    return html(pages.bhe_report(_meta([], 0), []))


def _month_rows(state: SimulatorState, rut: int, year: str, month: str) -> list[dict]:
    # A one-digit month gives an empty report, not an error (as on the real CGI).
    if not (_YEAR.match(year) and _MONTH.match(month)):
        return []
    if (int(year), int(month)) > (state.today.year, state.today.month):
        return []
    return fee_receipts(rut, year + month)


def _meta(rows: list[dict], page: int) -> dict[str, str]:
    valid = [row for row in rows if row["estado"] == "N"]
    return {
        "total_boletas": str(len(rows)),
        "suma_honorarios": str(sum(int(row["totalhonorarios"]) for row in valid)),
        "suma_retencion_receptor": str(sum(int(row["retencion_receptor"]) for row in valid)),
        "suma_liquido": str(sum(int(row["honorariosliquidos"]) for row in valid)),
        "pagina_solicitada": str(page),
        "total_paginas": str(math.ceil(len(rows) / PAGE_SIZE)),
    }
