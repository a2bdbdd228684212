"""www4's JSON facades: RCV (consdcvinternetui) and the F29 list (propuestaf29ui), with the SII's checks."""

import re

from sii.rut import check_digit
from sii.simulator import data, pages, wire
from sii.simulator.envelopes import f29_envelope, rcv_envelope
from sii.simulator.state import SimulatorState
from sii.simulator.wsgi import Request, Response, html, json_response

RCV_NAMESPACE = "cl.sii.sdi.lob.diii.consdcv.data.api.interfaces.FacadeService/"
F29_NAMESPACE = "cl.sii.sdi.lob.iva.propuestaf29.data.api.interfaces.FacadeAdapterService/"
ESTADOS = ("REGISTRO", "PENDIENTE", "NO_INCLUIR", "RECLAMADO")
SUMMARY_TYPES = frozenset({35, 38, 39, 41, 47, 48, 105, 919, 924})
_PERIOD = re.compile(r"^\d{6}$")


def _json_call(state: SimulatorState, request: Request) -> tuple[int, dict, dict] | Response:
    """Checks every facade shares: POST only, a session, a JSON body."""
    if request.method != "POST":
        return html(pages.jboss_error(405), status=405)
    rut = state.session_rut(request)
    if rut is None:
        return html(pages.login_wall())
    body = request.json
    if not isinstance(body, dict) or not isinstance(body.get("metaData"), dict):
        return html(pages.jboss_error(400), status=400)
    return rut, body["metaData"], body.get("data") or {}


def rcv(state: SimulatorState, request: Request) -> Response:
    call = _json_call(state, request)
    if isinstance(call, Response):
        return call
    _, meta, params = call
    method = request.method_name
    problem = _rcv_problem(method, meta, params, request.cookies.get("TOKEN", ""))
    if problem:
        return json_response(rcv_envelope(meta, None, *problem, detail=method != "getResumen"))
    rut, period = int(params["rutEmisor"]), params["ptributario"]
    if (int(period[:4]), int(period[4:])) > (state.today.year, state.today.month):
        return json_response(_no_data(method, meta))
    answer = _resumen if method == "getResumen" else _detail
    return json_response(answer(method, meta, params, rut, period))


def _rcv_problem(method: str, meta: dict, params: dict, token: str) -> tuple[int, str] | None:
    """The first check the RCV fails, as (codRespuesta, msgeRespuesta): metaData first, then the data."""
    if not str(meta.get("namespace", "")).endswith("/" + method):
        return 1, f"El namespace {meta.get('namespace')!r} no corresponde al servicio {method}"
    if meta.get("conversationId") not in (None, "", token):
        return 99, "El token no es valido"
    message = _rcv_param_problem(method, params)
    return (2, f"Parametros invalidos: {message}") if message else None


def _rcv_param_problem(method: str, params: dict) -> str | None:
    rut, dv = str(params.get("rutEmisor", "")), str(params.get("dvEmisor", "")).upper()
    if not rut.isdigit() or check_digit(int(rut)) != dv:
        return "rutEmisor/dvEmisor"
    if not _PERIOD.match(str(params.get("ptributario", ""))) or not 1 <= int(params["ptributario"][4:]) <= 12:
        return "ptributario"
    operacion = _operacion(method, params)
    if operacion not in ("COMPRA", "VENTA"):
        return "operacion"
    if operacion == "COMPRA" and params.get("estadoContab") not in ESTADOS:
        return "estadoContab es obligatorio para COMPRA"
    if method != "getResumen" and not str(params.get("codTipoDoc") or "").strip("0").isdigit():
        return "codTipoDoc es obligatorio"
    return None


def _operacion(method: str, params: dict) -> str:
    # The detail method names the side; the SPA even sends operacion "" on getDetalleVenta.
    sides = {"getDetalleCompra": "COMPRA", "getDetalleVenta": "VENTA"}
    return sides.get(method) or str(params.get("operacion", ""))


def _no_data(method: str, meta: dict) -> dict:
    """§9: "sin movimientos" is code 3 with data null, on resumen and detail alike."""
    return rcv_envelope(meta, None, 3, detail=method != "getResumen")


def _resumen(method: str, meta: dict, params: dict, rut: int, period: str) -> dict:
    operacion, estado = params["operacion"], params.get("estadoContab") or "REGISTRO"
    rows = data.resumen(rut, period, operacion, estado)
    if not rows:
        return _no_data(method, meta)
    cabecera = wire.cabecera(rut, params["dvEmisor"].upper(), period, operacion)
    shaped = wire.resumen_rows(rows, operacion, estado, period)
    return rcv_envelope(
        meta, shaped, 0, None, dataCabecera=cabecera, totDocRes=sum(r["rsmnTotDoc"] for r in rows)
    )


def _detail(method: str, meta: dict, params: dict, rut: int, period: str) -> dict:
    tipo = int(params["codTipoDoc"])
    if method == "getDetalleCompra":
        rows = _purchases_of(rut, period, tipo, params["estadoContab"])
    else:
        # Summary-only types (boletas) have no per-document detail on the SII either.
        rows = (
            [] if tipo in SUMMARY_TYPES else [r for r in data.sales(rut, period) if r["detTipoDoc"] == tipo]
        )
    if not rows:
        return _no_data(method, meta)
    # §9: getDetalle* answers carry dataCabecera null.
    return rcv_envelope(meta, wire.detail_rows(rows, _operacion(method, params)), 0, None, detail=True)


def _purchases_of(rut: int, period: str, tipo: int, estado: str) -> list[dict]:
    rows = data.purchases(rut, period)
    return [r for r in rows if r["detTipoDoc"] == tipo and r["dcvEstadoContab"] == estado]


def f29(state: SimulatorState, request: Request) -> Response:
    """getDeclaracionConEstados: errors go in metaData.errors, and only for the session's own RUT."""
    call = _json_call(state, request)
    if isinstance(call, Response):
        return call
    session_rut, meta, params = call
    error = _f29_problem(request.method_name, meta, params, session_rut)
    if error:
        return json_response(f29_envelope(meta, None, error))
    period = params["anno"] + params["mes"]
    rows = data.f29_declarations(session_rut, period, state.today)
    return json_response(f29_envelope(meta, wire.f29_rows(rows)))


def _f29_problem(method: str, meta: dict, params: dict, session_rut: int) -> str | None:
    if not str(meta.get("namespace", "")).endswith("/" + method):
        return f"Namespace incorrecto; el servicio espera {F29_NAMESPACE}{method}"
    rut, dv = str(params.get("rut", "")), str(params.get("dv", ""))
    if rut != str(session_rut):
        return f"Consulta RUT[{rut}-{dv}] no esta autorizado"
    mes, anno = str(params.get("mes", "")), str(params.get("anno", ""))
    if (
        str(params.get("formId")) != "2"
        or not re.match(r"^(0[1-9]|1[0-2])$", mes)
        or not re.match(r"^\d{4}$", anno)
    ):
        return "Parametros invalidos: formId, mes (MM) y anno (YYYY) son obligatorios"
    return None
