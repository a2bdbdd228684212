"""SiiClient against the simulator over httpx: happy paths, every failure mapping, pacing, secrecy."""

import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from sii.client.errors import (
    SiiBadCredentials,
    SiiConnectionError,
    SiiError,
    SiiIncompleteMonth,
    SiiNotAuthorized,
    SiiRejected,
    SiiSessionExpired,
    SiiTimeout,
    SiiUnavailable,
)
from sii.client.http import SiiClient, SiiClientConfig
from sii.metrics import sii_call_count, sii_request_time
from sii.rut import Rut
from sii.services.clients import sii_client_config
from sii.simulator import data, wire
from sii.simulator.app import SiiSimulator
from sii.simulator.names import company_name
from tests.sii.conftest import PASSWORD, SIM_CONFIG

LOGIN = "CAutInicio.cgi"
PERIOD = "202503"
ROOT = Path(__file__).resolve().parents[2]
CLIENT_PACKAGE = ROOT / "sii" / "client"


def on_socket(base_url: str, **changes: float) -> SiiClientConfig:
    """SIM_CONFIG pointed at the simulator served on a real socket (the `live_sim` fixture)."""
    return replace(SIM_CONFIG, base_urls=dict.fromkeys(("auth", "rcv", "bhe"), base_url), **changes)


def test_first_data_call_logs_in_and_later_calls_reuse_the_session(
    sii_client: SiiClient, sim: SiiSimulator
) -> None:
    sii_client.rcv_resumen(period=PERIOD, operacion="COMPRA")
    sii_client.rcv_resumen(period=PERIOD, operacion="VENTA")
    assert sim.requests_to(LOGIN) == 1
    assert sim.session_count() == 1


def test_explicit_login_opens_a_session_and_exit_logs_out(
    make_client: Callable[..., SiiClient], sim: SiiSimulator
) -> None:
    with make_client() as client:
        client.login()
        assert sim.session_count() == 1
    assert sim.session_count() == 0
    assert sim.requests_to("autTermino.cgi") == 1


def test_bad_credentials_raise_and_no_second_login_is_ever_sent(
    make_client: Callable[..., SiiClient], sim: SiiSimulator
) -> None:
    client = make_client(password="wrong")
    with pytest.raises(SiiBadCredentials, match="no es correcta"):
        client.rcv_resumen(period=PERIOD, operacion="COMPRA")
    with pytest.raises(SiiBadCredentials, match="no es correcta"):
        client.login()
    with pytest.raises(SiiBadCredentials):
        client.f29_declaraciones(period=PERIOD)
    assert sim.requests_to(LOGIN) == 1
    assert sim.requests_to("/consdcvinternetui/") == 0


def test_a_registered_rut_logs_in_only_with_its_own_clave(
    make_client: Callable[..., SiiClient], sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.register_credentials(str(company_rut), "the-real-one")
    with pytest.raises(SiiBadCredentials):
        make_client().login()
    make_client(password="the-real-one").login()


def test_unavailable_login_page_raises_sii_unavailable(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add(LOGIN, "sii_unavailable")
    with pytest.raises(SiiUnavailable, match="Por el momento"):
        sii_client.login()
    sii_client.login()  # transient: the next attempt is allowed and works


def test_session_expired_once_logs_in_again_and_succeeds(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sii_client.login()
    sim.faults.add("getResumen", "session_expired")
    resumen = sii_client.rcv_resumen(period=PERIOD, operacion="COMPRA")
    assert resumen.rows
    assert sim.requests_to(LOGIN) == 2


def test_session_expired_twice_raises_sii_session_expired(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add("getDeclaracionConEstados", "session_expired", times=2)
    with pytest.raises(SiiSessionExpired):
        sii_client.f29_declaraciones(period=PERIOD)
    assert sim.requests_to(LOGIN) == 2


def test_invalid_token_answer_counts_as_an_expired_session(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add("getDetalleCompra", "resp_estado:99:El token no es valido")
    rows = sii_client.rcv_detalle(period=PERIOD, operacion="COMPRA", tipo_doc=33)
    assert rows
    assert sim.requests_to(LOGIN) == 2


def test_bhe_login_wall_also_triggers_one_relogin(
    sii_client: SiiClient, sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.faults.add("/cgi_IMT/", "session_expired")
    assert len(sii_client.bhe_recibidas(period=PERIOD)) == len(data.fee_receipts(company_rut.body, PERIOD))
    assert sim.requests_to(LOGIN) == 2


def test_resp_estado_3_on_resumen_is_an_empty_resumen(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add("getResumen", "resp_estado:3")
    assert sii_client.rcv_resumen(period=PERIOD, operacion="COMPRA").rows == []


def test_resp_estado_99_without_token_message_on_detail_is_no_rows(
    sii_client: SiiClient, sim: SiiSimulator
) -> None:
    sim.faults.add("getDetalleVenta", "resp_estado:99:No hay datos")
    assert sii_client.rcv_detalle(period=PERIOD, operacion="VENTA", tipo_doc=33) == []


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("resp_estado:2:Parametros invalidos", "codRespuesta 2: Parametros invalidos"),
        ("resp_estado:7:Servicio suspendido", "codRespuesta 7: Servicio suspendido"),
    ],
)
def test_other_resp_estado_codes_raise_rejected_with_the_sii_message(
    sii_client: SiiClient, sim: SiiSimulator, fault: str, message: str
) -> None:
    sim.faults.add("getDetalleCompra", fault)
    with pytest.raises(SiiRejected, match=message):
        sii_client.rcv_detalle(period=PERIOD, operacion="COMPRA", tipo_doc=33)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx_raises_sii_unavailable(sii_client: SiiClient, sim: SiiSimulator, status: int) -> None:
    sim.faults.add("getResumen", f"http:{status}")
    with pytest.raises(SiiUnavailable, match=f"HTTP {status}"):
        sii_client.rcv_resumen(period=PERIOD, operacion="COMPRA")


@pytest.mark.parametrize(
    ("status", "error"), [(403, SiiNotAuthorized), (404, SiiRejected), (400, SiiRejected)]
)
def test_http_4xx_raises_permanent_errors(
    sii_client: SiiClient, sim: SiiSimulator, status: int, error: type[Exception]
) -> None:
    sim.faults.add("getDeclaracionConEstados", f"http:{status}")
    with pytest.raises(error, match=f"HTTP {status}"):
        sii_client.f29_declaraciones(period=PERIOD)


def test_http_401_on_www4_is_treated_as_an_expired_session(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add("getResumen", "http:401")
    assert sii_client.rcv_resumen(period=PERIOD, operacion="VENTA").rows
    assert sim.requests_to(LOGIN) == 2


def test_http_5xx_on_login_raises_sii_unavailable(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add(LOGIN, "http:503")
    with pytest.raises(SiiUnavailable):
        sii_client.login()


def test_connection_reset_in_process_raises_connection_error(
    sii_client: SiiClient, sim: SiiSimulator
) -> None:
    sim.faults.add("getResumen", "reset")
    with pytest.raises(SiiConnectionError, match="disconnected"):
        sii_client.rcv_resumen(period=PERIOD, operacion="COMPRA")


def test_connection_reset_over_a_real_socket_raises_connection_error(
    make_client: Callable[..., SiiClient], sim: SiiSimulator, live_sim: str
) -> None:
    client = make_client(config=on_socket(live_sim), transport=None)
    sim.faults.add("TMBCOC_InformeMensualBheRec.cgi", "reset")
    with pytest.raises(SiiConnectionError):
        client.bhe_recibidas(period=PERIOD)


def test_an_answer_slower_than_the_timeout_raises_sii_timeout(
    make_client: Callable[..., SiiClient], sim: SiiSimulator, live_sim: str
) -> None:
    client = make_client(config=on_socket(live_sim, timeout=0.3), transport=None)
    sim.faults.add("getResumen", "delay:5000")
    started = time.monotonic()
    with pytest.raises(SiiTimeout):
        client.rcv_resumen(period=PERIOD, operacion="COMPRA")
    assert time.monotonic() - started < 4.5  # the timeout ended it, not the answer (a wide margin)


def test_a_real_socket_session_works_end_to_end(
    make_client: Callable[..., SiiClient], sim: SiiSimulator, live_sim: str, company_rut: Rut
) -> None:
    with make_client(config=on_socket(live_sim), transport=None) as client:
        assert len(client.rcv_detalle(period=PERIOD, operacion="COMPRA", tipo_doc=33)) > 0
        expected = wire.f29_rows(data.f29_declarations(company_rut.body, PERIOD, sim.today))
        assert [r.raw for r in client.f29_declaraciones(period=PERIOD)] == expected
    assert sim.session_count() == 0


def test_f29_for_a_rut_the_session_may_not_see_raises_not_authorized(
    sii_client: SiiClient, sim: SiiSimulator
) -> None:
    sim.faults.add("getDeclaracionConEstados", "f29_error:Consulta RUT[11111111-1] no esta autorizado")
    with pytest.raises(SiiNotAuthorized, match=r"Consulta RUT\[11111111-1\] no esta autorizado"):
        sii_client.f29_declaraciones(period=PERIOD)


def test_other_f29_errors_raise_rejected_verbatim(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add("getDeclaracionConEstados", "f29_error:Servicio no disponible")
    with pytest.raises(SiiRejected, match="Servicio no disponible"):
        sii_client.f29_declaraciones(period=PERIOD)


def test_f29_rows_carry_folio_estado_date_and_total(
    sii_client: SiiClient, sim: SiiSimulator, company_rut: Rut
) -> None:
    rows = sii_client.f29_declaraciones(period=PERIOD)
    expected = data.f29_declarations(company_rut.body, PERIOD, sim.today)
    assert [(r.folio, r.estado_id, r.total_a_pagar) for r in rows] == [
        (e["folio"], e["estadoDeclaracionId"], e["monto"]) for e in expected
    ]
    assert rows[0].estado == "Vigente"
    assert rows[0].filed_on is not None
    assert sii_client.f29_declaraciones(period="202507") == []


def test_code_98_logs_in_again_once_and_then_reads_the_rows(
    sii_client: SiiClient, sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.faults.add("getDetalleCompra", "resp_estado:98")
    rows = sii_client.rcv_detalle(period=PERIOD, operacion="COMPRA", tipo_doc=33)
    assert len(rows) == len(_purchases_of(company_rut.body, 33, "REGISTRO"))
    assert sim.requests_to(LOGIN) == 2


def test_code_98_twice_in_a_row_is_a_lost_session(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add("getDetalleCompra", "resp_estado:98", times=2)
    with pytest.raises(SiiSessionExpired):
        sii_client.rcv_detalle(period=PERIOD, operacion="COMPRA", tipo_doc=33)


def test_code_99_with_the_period_message_is_an_empty_answer(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add("getResumen", "resp_estado:99")
    assert sii_client.rcv_resumen(period=PERIOD, operacion="COMPRA").rows == []


def test_an_error_msg_without_resp_estado_is_rejected_with_its_text(
    sii_client: SiiClient, sim: SiiSimulator
) -> None:
    sim.faults.add("getDetalleVenta", "error_msg")
    with pytest.raises(SiiRejected, match=rf"getDetalleVenta {PERIOD}: Acceso no autorizado!"):
        sii_client.rcv_detalle(period=PERIOD, operacion="VENTA", tipo_doc=33)


def _purchases_of(rut_body: int, tipo: int, estado: str) -> list[dict]:
    rows = data.purchases(rut_body, PERIOD)
    return [r for r in rows if r["detTipoDoc"] == tipo and r["dcvEstadoContab"] == estado]


def bhe_as_read(rows: list[dict]) -> list[dict]:
    """What the client keeps of the simulator's boletas: the page has no nombre_receptor (§9)."""
    return [{key: value for key, value in row.items() if key != "nombre_receptor"} for row in rows]


def test_a_month_of_250_boletas_is_read_across_three_pages_of_100(
    sii_client: SiiClient, sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.faults.add("/cgi_IMT/", f"bhe_count:250:{PERIOD}", times=None)
    receipts = sii_client.bhe_recibidas(period=PERIOD)
    assert [r.raw for r in receipts] == bhe_as_read(data.fee_receipts(company_rut.body, PERIOD, 250))
    assert sim.requests_to("TMBCOC_InformeMensualBheRec.cgi") == 3
    assert all(r.monto_liquido == r.monto_bruto - r.retencion for r in receipts)


def test_a_month_whose_pages_all_repeat_page_one_fails_as_incomplete(
    sii_client: SiiClient, sim: SiiSimulator
) -> None:
    sim.faults.add("/cgi_IMT/", "bhe_repeat_first_page:250", times=None)
    with pytest.raises(SiiIncompleteMonth, match=rf"bhe {PERIOD}: the SII listed 100 of the 250 boletas"):
        sii_client.bhe_recibidas(period=PERIOD)
    assert sim.requests_to("TMBCOC_InformeMensualBheRec.cgi") == 2  # it stops at the repeated page


def test_issued_boletas_parse_with_the_company_as_issuer_and_the_receptor_as_counterparty(
    sii_client: SiiClient, sim: SiiSimulator, company_rut: Rut
) -> None:
    period = next(p for p in _months(2024) if data.issued_fee_receipts(company_rut.body, p))
    expected = data.issued_fee_receipts(company_rut.body, period)
    receipts = sii_client.bhe_emitidas(period=period)
    assert [r.raw for r in receipts] == expected  # names decoded back from their entities
    assert {(r.issuer_rut, r.issuer_dv) for r in receipts} == {(company_rut.body, company_rut.dv)}
    assert {r.issuer_name for r in receipts} == {company_name(company_rut.body)}
    assert [(r.receptor_rut, r.receptor_dv, r.receptor_name) for r in receipts] == [
        (int(row["rutreceptor"]), row["dvreceptor"], row["nombrereceptor"]) for row in expected
    ]
    assert all(r.monto_liquido == r.monto_bruto - r.retencion - r.retencion_emisor for r in receipts)
    assert sim.requests_to("TMBCOC_InformeMensualBhe.cgi") == 1
    assert sim.requests_to("TMBCOC_InformeMensualBheRec.cgi") == 0


def test_a_month_of_250_issued_boletas_is_read_across_three_pages_of_100(
    sii_client: SiiClient, sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.faults.add("/cgi_IMT/TMBCOC_InformeMensualBhe.cgi", f"bhe_count:250:{PERIOD}", times=None)
    receipts = sii_client.bhe_emitidas(period=PERIOD)
    assert [r.raw for r in receipts] == data.issued_fee_receipts(company_rut.body, PERIOD, 250)
    assert len({r.numero for r in receipts}) == 250
    assert sim.requests_to("TMBCOC_InformeMensualBhe.cgi") == 3


def test_an_issued_month_whose_pages_all_repeat_page_one_fails_as_incomplete(
    sii_client: SiiClient, sim: SiiSimulator
) -> None:
    sim.faults.add("/cgi_IMT/", "bhe_repeat_first_page:250", times=None)
    with pytest.raises(SiiIncompleteMonth, match=rf"bhe emitidas {PERIOD}: the SII listed 100 of the 250"):
        sii_client.bhe_emitidas(period=PERIOD)


def test_issued_boletas_of_a_future_month_are_empty_after_one_page(
    sii_client: SiiClient, sim: SiiSimulator
) -> None:
    assert sii_client.bhe_emitidas(period="202512") == []
    assert sim.requests_to("TMBCOC_InformeMensualBhe.cgi") == 1


def test_bhe_names_come_decoded_from_entities_and_iso_8859_1(
    sii_client: SiiClient, sim: SiiSimulator, company_rut: Rut
) -> None:
    period = next(p for p in _months(2024) if _has_special_names(company_rut.body, p))
    names = {r.issuer_name for r in sii_client.bhe_recibidas(period=period)}
    assert names == {row["nombre_emisor"] for row in data.fee_receipts(company_rut.body, period)}
    assert any("&" in name or not name.isascii() for name in names)


def _has_special_names(rut_body: int, period: str) -> bool:
    return any(
        "&" in r["nombre_emisor"] or "Í" in r["nombre_emisor"] for r in data.fee_receipts(rut_body, period)
    )


def test_bhe_month_without_receipts_is_empty_after_one_page(
    sii_client: SiiClient, sim: SiiSimulator, company_rut: Rut
) -> None:
    assert sii_client.bhe_recibidas(period="202512") == []  # the future: nothing issued yet
    assert sim.requests_to("TMBCOC_InformeMensualBheRec.cgi") == 1


def test_bhe_non_report_page_raises_not_authorized(sii_client: SiiClient, sim: SiiSimulator) -> None:
    sim.faults.add("/cgi_IMT/", "bhe_non_report")
    with pytest.raises(SiiNotAuthorized):
        sii_client.bhe_recibidas(period=PERIOD)


@pytest.mark.parametrize("estado", ["REGISTRO", "PENDIENTE"])
def test_compra_resumen_totals_equal_the_sum_of_detail_rows(sii_client: SiiClient, estado: str) -> None:
    resumen = sii_client.rcv_resumen(period=PERIOD, operacion="COMPRA", estado=estado)
    assert resumen.rows
    for row in resumen.rows:
        docs = sii_client.rcv_detalle(period=PERIOD, operacion="COMPRA", tipo_doc=row.tipo_doc, estado=estado)
        assert row.total_documentos == len(docs)
        assert row.monto_neto == sum(d.monto_neto for d in docs)
        assert row.monto_iva == sum(d.monto_iva for d in docs)
        assert row.monto_total == sum(d.monto_total for d in docs)
        assert {d.estado_contable for d in docs} == {estado}


def test_venta_resumen_flags_boleta_summaries_which_have_no_detail(
    sii_client: SiiClient, company_rut: Rut
) -> None:
    period = next(p for p in _months(2024) if data.sales_summaries(company_rut.body, p))
    resumen = sii_client.rcv_resumen(period=period, operacion="VENTA")
    summaries = [row for row in resumen.rows if row.summary_only]
    assert {row.tipo_doc for row in summaries} <= {39, 41}
    expected = wire.resumen_rows(data.sales_summaries(company_rut.body, period), "VENTA", "REGISTRO", period)
    assert [row.raw for row in summaries] == expected
    for row in summaries:
        assert sii_client.rcv_detalle(period=period, operacion="VENTA", tipo_doc=row.tipo_doc) == []
    for row in resumen.rows:
        if not row.summary_only:
            docs = sii_client.rcv_detalle(period=period, operacion="VENTA", tipo_doc=row.tipo_doc)
            assert row.monto_total == sum(d.monto_total for d in docs)


def test_detail_rows_keep_the_raw_sii_row_and_aware_datetimes(
    sii_client: SiiClient, company_rut: Rut
) -> None:
    rows = sii_client.rcv_detalle(period=PERIOD, operacion="VENTA", tipo_doc=33)
    expected = [r for r in data.sales(company_rut.body, PERIOD) if r["detTipoDoc"] == 33]
    assert [row.raw for row in rows] == wire.detail_rows(expected, "VENTA")
    assert all(row.received_at.tzinfo is not None for row in rows if row.received_at)
    assert str(rows[0].received_at.tzinfo) == "America/Santiago"


def test_a_future_period_has_no_movement(sii_client: SiiClient) -> None:
    assert sii_client.rcv_resumen(period="202601", operacion="COMPRA").rows == []


def test_a_malformed_period_is_a_programming_error(sii_client: SiiClient, sim: SiiSimulator) -> None:
    with pytest.raises(ValueError, match="YYYYMM"):
        sii_client.rcv_resumen(period="2025-03", operacion="COMPRA")
    assert sim.requests_to(LOGIN) == 0


def test_requests_are_paced_by_the_request_interval(make_client: Callable[..., SiiClient]) -> None:
    client = make_client(config=replace(SIM_CONFIG, request_interval=0.05))
    started = time.monotonic()
    client.login()
    client.rcv_resumen(period=PERIOD, operacion="COMPRA")
    client.rcv_resumen(period=PERIOD, operacion="VENTA")
    assert time.monotonic() - started >= 0.1


def test_the_password_never_reaches_logs_exceptions_or_repr(
    make_client: Callable[..., SiiClient],
    sim: SiiSimulator,
    company_rut: Rut,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    sim.faults.add("getResumen", "session_expired", times=2)
    sim.faults.add("getDetalleCompra", "reset")
    sim.faults.add("getDeclaracionConEstados", "http:500")
    calls = [
        lambda: client.rcv_resumen(period=PERIOD, operacion="COMPRA"),
        lambda: client.rcv_detalle(period=PERIOD, operacion="COMPRA", tipo_doc=33),
        lambda: client.f29_declaraciones(period=PERIOD),
        lambda: (sim.register_credentials(str(company_rut), "not-" + PASSWORD), make_client().login()),
    ]
    errors = []
    for call in calls:
        with pytest.raises(SiiError) as caught:
            call()
        errors.append(caught.value)
    assert [type(e) for e in errors] == [
        SiiSessionExpired,
        SiiConnectionError,
        SiiUnavailable,
        SiiBadCredentials,
    ]
    assert "sii" in caplog.text
    texts = [caplog.text, repr(client), *map(str, errors), *map(repr, errors)]
    texts += [str(e.__cause__) for e in errors if e.__cause__]
    assert not [text for text in texts if PASSWORD in text]


def _months(year: int) -> list[str]:
    return [f"{year}{month:02d}" for month in range(1, 13)]


def test_the_factory_configures_clients_from_the_current_settings(settings) -> None:
    settings.SII_BASE_URLS = dict.fromkeys(("auth", "rcv", "bhe"), "https://sii.example")
    settings.SII_HTTP_TIMEOUT = 7
    settings.SII_REQUEST_INTERVAL = 0.5
    expected = SiiClientConfig(
        base_urls=dict.fromkeys(("auth", "rcv", "bhe"), "https://sii.example"),
        timeout=7,
        request_interval=0.5,
        on_call=sii_call_count,
        on_request=sii_request_time,
    )
    assert sii_client_config() == expected


def test_the_client_package_does_not_import_django() -> None:
    # Its whole configuration comes in as arguments (sii.services.clients reads the settings).
    django_import = re.compile(r"^\s*(from|import)\s+django\b", re.MULTILINE)
    offenders = [p.name for p in CLIENT_PACKAGE.glob("*.py") if django_import.search(p.read_text())]
    assert offenders == []


def test_the_client_loads_without_django_or_tasks_api_in_a_fresh_interpreter() -> None:
    # Not even through a module it imports: it reports its calls through callbacks instead.
    probe = (
        "import sys, sii.client.http; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'tasks_api', 'celery'}))"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
