"""Request bodies and query strings of the SII calls, shaped exactly as the SII's own SPAs send them."""

import uuid

from sii.client.types import EstadoContable, JsonObject, Operacion
from sii.rut import Rut

RCV_NAMESPACE = "cl.sii.sdi.lob.diii.consdcv.data.api.interfaces.FacadeService/"
F29_NAMESPACE = "cl.sii.sdi.lob.iva.propuestaf29.data.api.interfaces.FacadeAdapterService/"
F29_METHOD = "getDeclaracionConEstados"
# The SPA's recaptchaService.pedirToken is a no-op returning this sentinel; the backend accepts it.
RECAPTCHA_SENTINEL = "t-o-k-e-n-web"
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)


def meta(namespace: str, token: str) -> JsonObject:
    """The metaData block: namespace ending with the method, conversationId = the TOKEN cookie."""
    return {"namespace": namespace, "conversationId": token, "transactionId": str(uuid.uuid4()), "page": None}


def rcv_resumen(
    token: str, rut: Rut, period: str, operacion: Operacion, estado: EstadoContable
) -> JsonObject:
    data = _rcv_data(rut, period, operacion, estado)
    data["busquedaInicial"] = True
    return {"metaData": meta(RCV_NAMESPACE + "getResumen", token), "data": data}


def rcv_detalle(
    token: str, rut: Rut, period: str, operacion: Operacion, tipo_doc: int, estado: EstadoContable
) -> JsonObject:
    data = _rcv_data(rut, period, operacion, estado)
    data["codTipoDoc"] = tipo_doc
    data["accionRecaptcha"] = "RCV_DETC" if operacion == "COMPRA" else "RCV_DETV"
    data["tokenRecaptcha"] = RECAPTCHA_SENTINEL
    return {"metaData": meta(RCV_NAMESPACE + rcv_detail_method(operacion), token), "data": data}


def rcv_detail_method(operacion: Operacion) -> str:
    return "getDetalleCompra" if operacion == "COMPRA" else "getDetalleVenta"


def _rcv_data(rut: Rut, period: str, operacion: Operacion, estado: EstadoContable) -> JsonObject:
    # VENTA has no estado contable; "REGISTRO" is what the SPA itself sends.
    return {
        "rutEmisor": str(rut.body),
        "dvEmisor": rut.dv,
        "ptributario": period,
        "estadoContab": estado if operacion == "COMPRA" else "REGISTRO",
        "operacion": operacion,
    }


def f29_estados(token: str, rut: Rut, period: str) -> JsonObject:
    data = {"rut": str(rut.body), "dv": rut.dv, "formId": "2", "mes": period[4:], "anno": period[:4]}
    return {"metaData": meta(F29_NAMESPACE + F29_METHOD, token), "data": data}


def bhe_params(rut: Rut, period: str, page: int) -> dict[str, str]:
    """`page` counts from 1, as the CGI's first page echoes pagina_solicitada "1"."""
    # The month must be two digits: with one digit the SII answers an empty report, not an error.
    return {
        "rut_arrastre": str(rut.body),
        "dv_arrastre": rut.dv,
        "cbanoinformemensual": period[:4],
        "cbmesinformemensual": period[4:],
        "pagina_solicitada": str(page),
    }


def login_form(rut: Rut, password: str, referencia: str) -> dict[str, str]:
    return {
        "rut": str(rut.body),
        "dv": rut.dv,
        "clave": password,
        "referencia": referencia,
        "411": "",
        "rutcntr": rut.formatted,
    }
