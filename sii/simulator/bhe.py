"""loa's monthly BHE reports (received and issued): session-keyed, paged by 100 from page 1, ISO-8859-1 HTML."""

import re
from collections.abc import Callable

from sii.rut import check_digit
from sii.simulator import pages, wire
from sii.simulator.data import fee_receipts, issued_fee_receipts, retention_rate_bp
from sii.simulator.names import company_name
from sii.simulator.state import SimulatorState
from sii.simulator.wsgi import Request, Response, html

PAGE_SIZE = 100  # the page's own MAXFILAS (§9)
# The month's rows of one report: (RUT body, "YYYYMM", forced count or None) -> rows.
RowsOf = Callable[[int, str, int | None], list[dict]]
_YEAR, _MONTH = re.compile(r"^\d{4}$"), re.compile(r"^(0[1-9]|1[0-2])$")


def received(state: SimulatorState, request: Request) -> Response:
    """TMBCOC_InformeMensualBheRec.cgi: the BHE the session company received in one month."""
    return _monthly_report(state, request, fee_receipts, wire.bhe_row, issued=False)


def issued(state: SimulatorState, request: Request) -> Response:
    """TMBCOC_InformeMensualBhe.cgi: the BHE the session company issued in one month."""
    return _monthly_report(state, request, issued_fee_receipts, wire.bhe_issued_row, issued=True)


def _monthly_report(
    state: SimulatorState, request: Request, rows_of: RowsOf, shape: Callable[[dict], dict], *, issued: bool
) -> Response:
    """Both reports take the same parameters and checks, and page PAGE_SIZE rows from page 1."""
    rut = state.session_rut(request)
    if rut is None:
        return html(pages.login_wall())
    params = request.query if request.method == "GET" else request.form
    refusal = _refusal(request, params, rut)
    if refusal:
        return refusal
    year, month = params.get("cbanoinformemensual", ""), params.get("cbmesinformemensual", "")
    rows = _month_rows(state, rut, year, month, rows_of, _forced_count(request, year + month))
    page = _page_number(request.overrides.get("pagina_solicitada") or params.get("pagina_solicitada", ""))
    shown = [shape(row) for row in rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    return _report(pages.bhe_report(_meta(rut, year, month, len(rows), page), shown, issued=issued))


def _page_number(text: str) -> int:
    # The first page is 1; a missing or 0 page shows the first one.
    return max(int(text), 1) if text.isdigit() else 1


def _forced_count(request: Request, period: str) -> int | None:
    """bhe_count:<n>[:<YYYYMM>] (see faults) forces the month's number of boletas."""
    count, _, only = request.overrides.get("bhe_count", "").partition(":")
    return int(count) if count and only in ("", period) else None


def _report(text: str) -> Response:
    # ISO-8859-1 bytes with no declared charset, as the live CGI answers (§9).
    response = html(text)
    response.content_type = "text/html"
    return response


def _refusal(request: Request, params: dict[str, str], rut: int) -> Response | None:
    # These CGIs refuse requests without a browser User-Agent and a Referer.
    if "mozilla" not in request.headers.get("user-agent", "").lower() or not request.headers.get("referer"):
        return html(pages.bhe_host_undefined())
    if params.get("rut_arrastre", "") != str(rut):
        return html(pages.bhe_not_authorized(params.get("rut_arrastre", "")))
    return None


def _month_rows(
    state: SimulatorState, rut: int, year: str, month: str, rows_of: RowsOf, count: int | None
) -> list[dict]:
    # A one-digit month gives an empty report, not an error (as on the real CGI).
    if not (_YEAR.match(year) and _MONTH.match(month)):
        return []
    if (int(year), int(month)) > (state.today.year, state.today.month):
        return []
    return rows_of(rut, year + month, count)


def _meta(rut: int, year: str, month: str, total: int, page: int) -> dict[str, str]:
    """xml_values as §9 lists them; no total_paginas. [I] the pagina_*_codigo values are guesses."""
    pages_in_month = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    rate_bp = retention_rate_bp(int(year)) if _YEAR.match(year) else 0
    return {
        "anio_consulta": year, "mes_consulta": month, "rut_arrastre": str(rut),
        "dv_arrastre": check_digit(rut), "nombre_contribuyente": company_name(rut) + " ",
        "porcentaje_retencion": f"{rate_bp / 100:.2f}".replace(".", ","),
        "cant_boletas": str(total), "total_boletas": str(total), "pagina_solicitada": str(page),
        "pagina_actual": str(page), "pagina_lista": ",".join(map(str, range(1, pages_in_month + 1))),
        "pagina_ant_codigo": str(page - 1) if page > 1 else "",
        "pagina_sig_codigo": str(page + 1) if page < pages_in_month else "",
        "pagina_med_codigo": str((pages_in_month + 1) // 2),
    }  # fmt: skip
