"""Parsing of SII answers and the mapping of SII answers to typed errors, on hand-written samples."""

from datetime import date, datetime

import httpx
import pytest

from sii.client import failures
from sii.client.errors import (
    SiiBadCredentials,
    SiiConnectionError,
    SiiNotAuthorized,
    SiiRejected,
    SiiTimeout,
    SiiUnavailable,
)
from sii.client.parsers import (
    SII_TZ,
    f29_row,
    fee_receipt_row,
    issued_fee_receipt_row,
    parse_bhe_report,
    parse_date,
    parse_datetime,
    summary_row,
    to_int,
)

REPORT = """<script>
xml_values['total_boletas'] = "2";
xml_values['suma_honorarios'] = "1325000";
arr_informe_mensual['nroboleta_1']          = "135554";
arr_informe_mensual['rutemisor_1']          = "12883789";
arr_informe_mensual['dvemisor_1']           = "2";
arr_informe_mensual['nombre_emisor_1']      = "NOMBRE \\"EL\\" EMISOR";
arr_informe_mensual['fecha_boleta_1']       = "25/09/2025";
arr_informe_mensual['totalhonorarios_1']    = formatMiles("25000",'.');
arr_informe_mensual['honorariosliquidos_1'] = formatMiles("21375",'.');
arr_informe_mensual['retencion_receptor_1'] = formatMiles("3625",'.');
arr_informe_mensual['es_soc_profesional_1'] = "NO";
arr_informe_mensual['estado_1']             = "N";
arr_informe_mensual['fechaanulacion_1']     = " ";
arr_informe_mensual['codigobarras_1']       = "12883789135554A051FC";
arr_informe_mensual['nroboleta_2']          = '99';
arr_informe_mensual['totalhonorarios_2']    = formatMiles("1.300.000",'.');
arr_informe_mensual['estado_2']             = "S";
arr_informe_mensual['fechaanulacion_2']     = "30/09/2025";
</script>"""


def test_sii_dates_parse_and_blanks_are_none() -> None:
    assert parse_date("05/01/2025") == date(2025, 1, 5)
    assert parse_date("05/01/2025 10:11:12") == date(2025, 1, 5)
    assert parse_date(" ") is None
    assert parse_date(None) is None


def test_sii_datetimes_are_aware_in_santiago() -> None:
    moment = parse_datetime("05/01/2025 21:58:49")
    assert moment == datetime(2025, 1, 5, 21, 58, 49, tzinfo=SII_TZ)
    assert moment.utcoffset().total_seconds() == -3 * 3600  # summer time (CLST)
    assert parse_datetime("05/07/2025").utcoffset().total_seconds() == -4 * 3600
    assert parse_datetime("") is None


def test_malformed_dates_raise_value_error() -> None:
    with pytest.raises(ValueError, match="does not match"):
        parse_date("2025-01-05")


@pytest.mark.parametrize(
    ("value", "number"), [(1500, 1500), ("1500", 1500), ("1.300.000", 1300000), (None, 0), (" ", 0)]
)
def test_amounts_accept_ints_digit_strings_and_dot_groups(value: object, number: int) -> None:
    assert to_int(value) == number


def test_bhe_report_rows_come_from_the_js_maps() -> None:
    report = parse_bhe_report(REPORT)
    assert report.total == 2
    assert report.meta["suma_honorarios"] == "1325000"
    assert [row["nroboleta"] for row in report.rows] == ["135554", "99"]
    assert report.rows[0]["totalhonorarios"] == "25000"
    assert report.rows[0]["nombre_emisor"] == 'NOMBRE "EL" EMISOR'


def test_bhe_report_accepts_zero_based_indices() -> None:
    page = REPORT.replace("_1']", "_0']").replace("_2']", "_1']")
    assert [row["nroboleta"] for row in parse_bhe_report(page).rows] == ["135554", "99"]


def test_a_bhe_row_becomes_a_fee_receipt_keeping_its_raw_fields() -> None:
    first, second = parse_bhe_report(REPORT).rows
    receipt = fee_receipt_row(first)
    assert (receipt.numero, receipt.issuer_rut, receipt.issuer_dv) == (135554, 12883789, "2")
    assert (receipt.monto_bruto, receipt.retencion, receipt.monto_liquido) == (25000, 3625, 21375)
    assert receipt.issued_on == date(2025, 9, 25)
    assert (receipt.anulada, receipt.anulada_on, receipt.sociedad_profesional) == (False, None, False)
    assert receipt.raw == first
    second |= {"fecha_boleta": "01/09/2025", "rutemisor": "1"}
    cancelled = fee_receipt_row(second)
    assert (cancelled.anulada, cancelled.anulada_on, cancelled.monto_bruto) == (
        True,
        date(2025, 9, 30),
        1300000,
    )


ISSUED_ROW = {
    "nroboleta": "311",
    "usuemisor": "76100090",
    "fechaemision": "02/08/2025",
    "rutreceptor": "96806980",
    "dvreceptor": "k",
    "nombrereceptor": " CLIENTE SPA ",
    "fecha_boleta": "02/08/2025",
    "totalhonorarios": "384.879",
    "es_soc_profesional": "NO",
    "email_envio": "a@b.cl",
    "retencion_emisor": "0",
    "retencion_receptor": "55.807",
    "honorariosliquidos": "329.072",
    "estado": "N",
    "fechaanulacion": " ",
    "codigobarras": "76100090311ABCDEF012",
}


def test_an_issued_bhe_row_has_the_company_as_issuer_and_the_receptor_as_counterparty() -> None:
    receipt = issued_fee_receipt_row(ISSUED_ROW, issuer=(76100090, "k", "EMPRESA SPA "))
    assert (receipt.numero, receipt.issuer_rut, receipt.issuer_dv, receipt.issuer_name) == (
        311,
        76100090,
        "K",
        "EMPRESA SPA",
    )
    assert (receipt.receptor_rut, receipt.receptor_dv, receipt.receptor_name) == (
        96806980,
        "K",
        "CLIENTE SPA",
    )
    assert (receipt.monto_bruto, receipt.retencion, receipt.retencion_emisor, receipt.monto_liquido) == (
        384879,
        55807,
        0,
        329072,
    )
    assert (receipt.issued_on, receipt.anulada, receipt.raw) == (date(2025, 8, 2), False, ISSUED_ROW)


def test_a_received_bhe_row_has_no_receptor_fields() -> None:
    receipt = fee_receipt_row(parse_bhe_report(REPORT).rows[0])
    assert (receipt.receptor_rut, receipt.receptor_dv, receipt.receptor_name, receipt.retencion_emisor) == (
        None,
        "",
        "",
        0,
    )


@pytest.mark.parametrize(
    ("tipo", "ingreso", "summary_only"),
    [
        (33, "DET_ELE", False),
        (39, "RESUMEN", True),
        (39, None, True),
        (48, "DET_ELE", True),
        (33, "RESUMEN", True),
    ],
)
def test_summary_only_comes_from_the_ingreso_marker_or_the_type(
    tipo: int, ingreso: str | None, summary_only: bool
) -> None:
    raw = {"rsmnTipoDocInteger": tipo, "dcvNombreTipoDoc": "X", "rsmnTotDoc": 2, "rsmnMntTotal": 119}
    row = summary_row(raw | {"dcvTipoIngresoDoc": ingreso})
    assert row.summary_only is summary_only
    assert (row.total_documentos, row.monto_total, row.monto_neto) == (2, 119, 0)


@pytest.mark.parametrize("stamp", ["14/02/2025", "14/02/2025 10:11:12"])
def test_f29_rows_accept_both_date_formats(stamp: str) -> None:
    raw = {
        "estadoDeclaracionId": 1,
        "estado": "Vigente",
        "folio": 7123456789,
        "declFechaCreacion": stamp,
        "monto": 5,
    }
    row = f29_row(raw)
    assert (row.folio, row.estado_id, row.estado, row.filed_on, row.total_a_pagar) == (
        7123456789, 1, "Vigente", date(2025, 2, 14), 5
    )  # fmt: skip
    assert f29_row({"folio": 0, "estado": "Guardada", "monto": None}).total_a_pagar is None


def envelope(code: object, message: str | None = None, data: object = None) -> dict:
    return {"data": data, "respEstado": {"codRespuesta": code, "msgeRespuesta": message, "codError": None}}


def test_resp_estado_zero_returns_the_rows_and_accepts_datos() -> None:
    assert failures.rcv_rows(envelope(0, data=[{"a": 1}]), "m") == [{"a": 1}]
    assert failures.rcv_rows({"datos": [{"a": 1}], "respEstado": {"codRespuesta": "0"}}, "m") == [{"a": 1}]


@pytest.mark.parametrize(
    "answer",
    [
        envelope(3, "Sin movimientos"),
        envelope(99, "Periodo consultado no válido, debe ser mayor igual a 201705"),
    ],
)
def test_codes_3_and_99_are_an_empty_answer_on_resumen_and_detail(answer) -> None:
    assert failures.rcv_rows(answer, "getResumen 202501") == []
    assert failures.rcv_rows(answer, "getDetalleCompra 202501") == []


@pytest.mark.parametrize(
    "answer", [envelope(98, "requiere redirección"), envelope(99, "El token no es válido")]
)
def test_codes_that_mean_the_session_is_gone_ask_for_a_login(answer) -> None:
    with pytest.raises(failures.SessionLost):
        failures.rcv_rows(answer, "getDetalleCompra 202501")


def test_a_rejection_names_the_call_the_period_and_the_code() -> None:
    with pytest.raises(SiiRejected, match=r"^getResumen 202501: codRespuesta 2: Faltan parametros$"):
        failures.rcv_rows(envelope(2, "Faltan parametros"), "getResumen 202501")


def test_an_error_message_without_resp_estado_is_a_rejection_that_carries_its_text() -> None:
    with pytest.raises(SiiRejected, match=r"^getDetalleVenta 202501: Acceso no autorizado!$"):
        failures.rcv_rows({"errorMsg": "Acceso no autorizado!"}, "getDetalleVenta 202501")


def test_an_echoed_namespace_that_differs_is_rejected() -> None:
    failures.check_namespace({"metaData": {"namespace": "a/getResumen"}}, "a/getResumen", "getResumen")
    failures.check_namespace({}, "a/getResumen", "getResumen")
    with pytest.raises(SiiRejected, match="namespace"):
        failures.check_namespace(
            {"metaData": {"namespace": "a/getDetalleVenta"}}, "a/getResumen", "getResumen"
        )


def test_f29_errors_map_to_not_authorized_or_rejected() -> None:
    def errors(text: str) -> dict:
        return {"metaData": {"errors": [{"id": 1, "descripcion": text}]}, "data": None}

    with pytest.raises(SiiNotAuthorized, match=r"RUT\[1-9\]"):
        failures.f29_rows(errors("Consulta RUT[1-9] no está autorizado"), "f29")
    with pytest.raises(SiiRejected, match="Otro error"):
        failures.f29_rows(errors("Otro error"), "f29")
    assert failures.f29_rows({"metaData": {"errors": None}, "data": None}, "f29") == []


def login_page(text: str, cookies: bool = False) -> tuple[httpx.Response, bool]:
    return httpx.Response(200, html=f"<html><body>{text}</body></html>"), cookies


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("La Clave Tributaria ingresada no es correcta, verifique", SiiBadCredentials),
        ("Clave Tributaria incorrecta", SiiBadCredentials),
        ("Transacción Rechazada", SiiBadCredentials),
        ("Por el momento no se puede responder a sus requerimientos.", SiiUnavailable),
        ("Usted está en la sala de espera (queue-it)", SiiUnavailable),
        ("Bienvenido", SiiRejected),
    ],
)
def test_login_pages_map_to_typed_errors(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        failures.check_login(*login_page(text))


def test_a_login_with_a_token_and_no_error_text_is_fine() -> None:
    failures.check_login(*login_page("Autenticación exitosa", cookies=True))


def test_bhe_pages_without_the_report_maps() -> None:
    failures.check_bhe_page(REPORT, "bhe")
    with pytest.raises(failures.SessionLost):
        failures.check_bhe_page('<form action="/cgi_AUT2000/CAutInicio.cgi"></form>', "bhe")
    with pytest.raises(SiiNotAuthorized):
        failures.check_bhe_page("<p>Usuario no está autorizado</p>", "bhe")
    with pytest.raises(SiiRejected, match="I082:host no definido"):
        failures.check_bhe_page("<p>I082:host no definido</p>", "bhe")


def test_html_on_a_json_call_is_the_login_wall_and_garbage_is_rejected() -> None:
    with pytest.raises(failures.SessionLost):
        failures.json_body(httpx.Response(200, html="<html></html>"), "m")
    with pytest.raises(SiiRejected, match="not JSON"):
        failures.json_body(
            httpx.Response(200, content=b"{", headers={"content-type": "application/json"}), "m"
        )


def test_a_redirect_to_the_login_form_is_the_login_wall() -> None:
    moved = httpx.Response(
        302, headers={"location": "https://zeusr.sii.cl/AUT2000/InicioAutenticacion/IngresoRutClave.html"}
    )
    with pytest.raises(failures.SessionLost):
        failures.check_status(moved, "m", session_surface=True)


def test_transport_errors_map_to_timeout_or_connection_error() -> None:
    assert isinstance(failures.transport_error(httpx.ReadTimeout("slow"), "m"), SiiTimeout)
    assert isinstance(failures.transport_error(httpx.ConnectError("refused"), "m"), SiiConnectionError)
    assert isinstance(failures.transport_error(httpx.RemoteProtocolError("gone"), "m"), SiiConnectionError)
