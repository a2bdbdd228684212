"""The simulator on the wire: the SII's enforcement rules, deterministic data, faults and control hooks."""

import ast
import re
from datetime import date
from pathlib import Path

import httpx
import pytest

import sii.simulator
from sii.rut import Rut, check_digit
from sii.simulator import data
from sii.simulator.app import SiiSimulator
from sii.simulator.wire import f29_rows, resumen_rows
from tests.sii.conftest import rut_of

RCV = "/consdcvinternetui/services/data/facadeService/"
RCV_NS = "cl.sii.sdi.lob.diii.consdcv.data.api.interfaces.FacadeService/"
F29 = "/propuestaf29ui/services/data/facadeAdapterService/getDeclaracionConEstados"
F29_NS = "cl.sii.sdi.lob.iva.propuestaf29.data.api.interfaces.FacadeAdapterService/getDeclaracionConEstados"
BHE = "/cgi_IMT/TMBCOC_InformeMensualBheRec.cgi"
BHE_ISSUED = "/cgi_IMT/TMBCOC_InformeMensualBhe.cgi"
BROWSER = {"User-Agent": "Mozilla/5.0", "Referer": "http://sii.test/cgi_IMT/TMBCOC_InformeAnualBheRec.cgi"}
PERIOD = "202503"


def login(wire: httpx.Client, rut: Rut, clave: str = "any") -> httpx.Response:
    form = {
        "rut": str(rut.body),
        "dv": rut.dv,
        "clave": clave,
        "referencia": "https://misiir.sii.cl/",
        "411": "",
    }
    return wire.post("/cgi_AUT2000/CAutInicio.cgi", data=form)


def rcv_body(rut: Rut, method: str = "getResumen", **data_overrides: object) -> dict:
    params = {"rutEmisor": str(rut.body), "dvEmisor": rut.dv, "ptributario": PERIOD, "operacion": "COMPRA"}
    params |= {"estadoContab": "REGISTRO", "busquedaInicial": True}
    meta = {"namespace": RCV_NS + method, "conversationId": "", "transactionId": "t-1", "page": None}
    return {"metaData": meta, "data": params | data_overrides}


def resp_estado(response: httpx.Response) -> tuple[int, str | None]:
    estado = response.json()["respEstado"]
    return estado["codRespuesta"], estado["msgeRespuesta"]


@pytest.fixture
def wire(raw: httpx.Client, company_rut: Rut) -> httpx.Client:
    """A raw httpx client already logged in as the company."""
    assert login(raw, company_rut).status_code == 302
    return raw


def test_login_sets_the_sii_session_cookies(raw: httpx.Client, company_rut: Rut) -> None:
    response = login(raw, company_rut)
    assert response.status_code == 302
    assert set(response.cookies) >= {"TOKEN", "CSESSIONID", "NETSCAPE_LIVEWIRE.rut", "NETSCAPE_LIVEWIRE.dv"}
    assert response.cookies["TOKEN"] == response.cookies["CSESSIONID"]
    assert response.cookies["RUT_NS"] == str(company_rut.body)


@pytest.mark.parametrize("clave", ["wrong", ""])
def test_an_unregistered_rut_rejects_only_the_clave_wrong_or_empty(
    raw: httpx.Client, company_rut: Rut, clave: str
) -> None:
    response = login(raw, company_rut, clave)
    assert response.status_code == 200
    assert "La Clave Tributaria ingresada no es correcta" in response.text
    assert "TOKEN" not in response.cookies


def test_a_registered_rut_needs_exactly_its_clave(
    raw: httpx.Client, sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.register_credentials(company_rut.formatted, "s3cret")
    assert "no es correcta" in login(raw, company_rut, "anything").text
    assert login(raw, company_rut, "s3cret").status_code == 302


def test_a_wrong_check_digit_is_a_bad_login(raw: httpx.Client) -> None:
    assert "no es correcta" in login(raw, Rut(body=76123456, dv="X")).text


def test_without_a_session_the_facades_answer_the_login_wall(raw: httpx.Client, company_rut: Rut) -> None:
    response = raw.post(RCV + "getResumen", json=rcv_body(company_rut))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "IngresoRutClave" in response.text


def test_logout_ends_the_session(wire: httpx.Client, company_rut: Rut) -> None:
    wire.get("/cgi_AUT2000/autTermino.cgi")
    assert "IngresoRutClave" in wire.post(RCV + "getResumen", json=rcv_body(company_rut)).text


def test_get_on_a_facade_is_405(wire: httpx.Client) -> None:
    assert wire.get(RCV + "getResumen").status_code == 405
    assert wire.get(F29).status_code == 405


def test_a_namespace_not_ending_with_the_method_is_code_1(wire: httpx.Client, company_rut: Rut) -> None:
    body = rcv_body(company_rut, "getDetalleCompra")
    response = wire.post(RCV + "getResumen", json=body)
    assert resp_estado(response)[0] == 1
    assert response.json()["metaData"]["namespace"] == body["metaData"]["namespace"]


def test_a_conversation_id_other_than_the_token_is_code_99(wire: httpx.Client, company_rut: Rut) -> None:
    body = rcv_body(company_rut)
    body["metaData"]["conversationId"] = "NOT-THE-TOKEN"
    assert resp_estado(wire.post(RCV + "getResumen", json=body)) == (99, "El token no es valido")
    body["metaData"]["conversationId"] = wire.cookies["TOKEN"]
    assert resp_estado(wire.post(RCV + "getResumen", json=body))[0] == 0


@pytest.mark.parametrize(
    ("method", "overrides"),
    [
        ("getResumen", {"ptributario": "2025-03"}),
        ("getResumen", {"ptributario": "20253"}),
        ("getResumen", {"operacion": "ARRIENDO"}),
        ("getResumen", {"estadoContab": None}),
        ("getDetalleCompra", {"codTipoDoc": None}),
        ("getDetalleVenta", {"codTipoDoc": 0, "operacion": "VENTA"}),
    ],
)
def test_bad_parameters_are_code_2(
    wire: httpx.Client, company_rut: Rut, method: str, overrides: dict
) -> None:
    assert resp_estado(wire.post(RCV + method, json=rcv_body(company_rut, method, **overrides)))[0] == 2


def test_venta_needs_no_estado_contable(wire: httpx.Client, company_rut: Rut) -> None:
    body = rcv_body(company_rut, operacion="VENTA", estadoContab=None)
    assert resp_estado(wire.post(RCV + "getResumen", json=body))[0] == 0


def test_a_resumen_without_movement_is_code_3(wire: httpx.Client, company_rut: Rut) -> None:
    response = wire.post(RCV + "getResumen", json=rcv_body(company_rut, ptributario="202508"))
    assert resp_estado(response) == (3, None)
    assert response.json()["data"] is None


def test_a_detail_without_rows_is_code_3_with_data_null(wire: httpx.Client, company_rut: Rut) -> None:
    body = rcv_body(company_rut, "getDetalleCompra", codTipoDoc=39)
    response = wire.post(RCV + "getDetalleCompra", json=body)
    assert resp_estado(response)[0] == 3
    assert response.json()["data"] is None


def test_the_rcv_is_body_rut_so_any_company_can_be_queried(wire: httpx.Client) -> None:
    other = rut_of(77879240)
    response = wire.post(RCV + "getResumen", json=rcv_body(other))
    assert resp_estado(response)[0] == 0
    rows = data.resumen(other.body, PERIOD, "COMPRA")
    assert response.json()["data"] == resumen_rows(rows, "COMPRA", "REGISTRO", PERIOD)


def f29_body(rut: Rut, mes: str = "03", namespace: str = F29_NS) -> dict:
    meta = {"namespace": namespace, "conversationId": "", "transactionId": "t-1"}
    return {
        "metaData": meta,
        "data": {"rut": str(rut.body), "dv": rut.dv, "formId": "2", "mes": mes, "anno": "2025"},
    }


def test_f29_lists_the_declarations_of_the_session_company(
    wire: httpx.Client, sim: SiiSimulator, company_rut: Rut
) -> None:
    body = wire.post(F29, json=f29_body(company_rut)).json()
    assert body["metaData"]["errors"] is None
    assert body["data"] == f29_rows(data.f29_declarations(company_rut.body, PERIOD, sim.today))


def test_f29_for_another_rut_is_not_authorized(wire: httpx.Client) -> None:
    errors = wire.post(F29, json=f29_body(rut_of(77879240))).json()["metaData"]["errors"]
    assert errors[0]["descripcion"] == "Consulta RUT[77879240-0] no esta autorizado"


def test_f29_with_a_wrong_namespace_names_the_right_one(wire: httpx.Client, company_rut: Rut) -> None:
    wrong = F29_NS.replace("getDeclaracionConEstados", "getResumen")
    errors = wire.post(F29, json=f29_body(company_rut, namespace=wrong)).json()["metaData"]["errors"]
    assert F29_NS in errors[0]["descripcion"]


def test_f29_with_a_one_digit_month_is_an_error(wire: httpx.Client, company_rut: Rut) -> None:
    assert wire.post(F29, json=f29_body(company_rut, mes="3")).json()["metaData"]["errors"]


def bhe(
    wire: httpx.Client,
    rut: Rut,
    month: str = "03",
    page: int = 1,
    headers: dict | None = None,
    path: str = BHE,
) -> str:
    params = {"rut_arrastre": str(rut.body), "dv_arrastre": rut.dv, "cbanoinformemensual": "2025"}
    params |= {"cbmesinformemensual": month, "pagina_solicitada": str(page)}
    return wire.get(path, params=params, headers=BROWSER if headers is None else headers).text


def test_bhe_report_holds_the_js_maps_with_one_based_rows(wire: httpx.Client, company_rut: Rut) -> None:
    receipts = data.fee_receipts(company_rut.body, PERIOD)
    page = bhe(wire, company_rut)
    assert f"xml_values['total_boletas'] = \"{len(receipts)}\";" in page
    assert f"xml_values['cant_boletas'] = \"{len(receipts)}\";" in page
    assert "var MAXFILAS=100;" in page
    assert f"var CantidadFilas={len(receipts)};" in page
    assert "xml_values['pagina_solicitada'] = \"1\";" in page
    assert "total_paginas" not in page
    assert "nombre_receptor" not in page
    assert "xml_values['suma_honorarios'] = 0;" in page
    if receipts:
        first = receipts[0]
        assert f"arr_informe_mensual['nroboleta_1'] = \"{first['nroboleta']}\";" in page
        assert f"formatMiles(\"{first['totalhonorarios']}\",'.')" in page


def test_bhe_with_a_one_digit_month_is_an_empty_report(wire: httpx.Client, company_rut: Rut) -> None:
    page = bhe(wire, company_rut, month="3")
    assert "xml_values['total_boletas'] = \"0\";" in page
    assert "arr_informe_mensual['" not in page


def test_bhe_for_another_rut_is_a_non_report_page(wire: httpx.Client) -> None:
    page = bhe(wire, rut_of(77879240))
    assert "xml_values" not in page
    assert "autorizado" in page


def test_bhe_without_browser_headers_answers_host_undefined(wire: httpx.Client, company_rut: Rut) -> None:
    assert "I082:host no definido" in bhe(wire, company_rut, headers={"User-Agent": "python-httpx"})


def test_issued_report_lists_the_companys_own_boletas_with_their_receptors(
    wire: httpx.Client, company_rut: Rut
) -> None:
    month = next(m for m in range(1, 13) if data.issued_fee_receipts(company_rut.body, f"2025{m:02d}"))
    issued = data.issued_fee_receipts(company_rut.body, f"2025{month:02d}")
    page = bhe(wire, company_rut, month=f"{month:02d}", path=BHE_ISSUED)
    assert "Boletas de Honorarios Emitidas" in page
    assert f"xml_values['total_boletas'] = \"{len(issued)}\";" in page
    assert f"var CantidadFilas={len(issued)};" in page
    assert f"arr_informe_mensual['nroboleta_1'] = \"{issued[0]['nroboleta']}\";" in page
    assert f"arr_informe_mensual['rutreceptor_1'] = \"{issued[0]['rutreceptor']}\";" in page
    assert "rutemisor" not in page


def test_issued_report_pages_by_100_from_page_1(
    wire: httpx.Client, sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.faults.add(BHE_ISSUED, "bhe_count:150", times=None)
    first, second = bhe(wire, company_rut, path=BHE_ISSUED), bhe(wire, company_rut, page=2, path=BHE_ISSUED)
    assert "var CantidadFilas=100;" in first
    assert "var CantidadFilas=50;" in second
    assert "xml_values['total_boletas'] = \"150\";" in second


def test_issued_report_for_another_rut_is_a_non_report_page(wire: httpx.Client) -> None:
    page = bhe(wire, rut_of(77879240), path=BHE_ISSUED)
    assert "xml_values" not in page
    assert "autorizado" in page


def test_issued_report_needs_browser_headers_and_a_session(raw: httpx.Client, company_rut: Rut) -> None:
    assert "xml_values" not in bhe(raw, company_rut, path=BHE_ISSUED)  # no session: the login wall
    login(raw, company_rut)
    page = bhe(raw, company_rut, headers={"User-Agent": "python-httpx"}, path=BHE_ISSUED)
    assert "I082:host no definido" in page


def test_generated_data_is_the_same_every_time(company_rut: Rut) -> None:
    body = company_rut.body
    assert data.purchases(body, PERIOD) == data.purchases(body, PERIOD)
    assert data.sales(body, PERIOD) == data.sales(body, PERIOD)
    assert data.fee_receipts(body, PERIOD) == data.fee_receipts(body, PERIOD)
    assert data.issued_fee_receipts(body, PERIOD) == data.issued_fee_receipts(body, PERIOD)
    assert data.purchases(body, PERIOD) != data.purchases(body, "202504")


def test_two_simulators_serve_identical_data(company_rut: Rut) -> None:
    answers = []
    for _ in range(2):
        with httpx.Client(
            transport=SiiSimulator(today=date(2025, 7, 1)).transport(), base_url="http://s"
        ) as wire:
            login(wire, company_rut)
            answers.append(
                wire.post(RCV + "getDetalleCompra", json=rcv_body(company_rut, codTipoDoc=33)).json()
            )
    assert answers[0]["data"] == answers[1]["data"]


def all_months() -> list[str]:
    return [f"{year}{month:02d}" for year in (2019, 2022, 2025) for month in range(1, 13)]


@pytest.mark.parametrize("body", [76123456, 96874030, 77879240])
def test_amounts_obey_the_iva_identities_and_ruts_pass_modulo_11(body: int) -> None:
    for period in all_months():
        for row in data.purchases(body, period) + data.sales(body, period):
            assert row["detMntIVA"] == round(row["detMntNeto"] * 0.19)
            assert row["detMntTotal"] == row["detMntNeto"] + row["detMntIVA"] + row["detMntExe"]
            assert check_digit(row["detRutDoc"]) == row["detDvDoc"]
            assert re.match(r"^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d$", row["detFecRecepcion"])
        for row in data.sales_summaries(body, period):
            assert row["rsmnMntIVA"] == round(row["rsmnMntNeto"] * 0.19)
            assert row["dcvTipoIngresoDoc"] == "RESUMEN"


def test_volumes_per_period_are_in_the_documented_ranges() -> None:
    counts = {"compras": set(), "ventas": set(), "bhe": set(), "estados": set(), "tipos": set()}
    for body in range(76_000_000, 76_000_040):
        for period in ("202401", "202406"):
            purchases = data.purchases(body, period)
            counts["compras"].add(len(purchases))
            counts["ventas"].add(len(data.sales(body, period)))
            counts["bhe"].add(len(data.fee_receipts(body, period)))
            counts["estados"] |= {row["dcvEstadoContab"] for row in purchases}
            counts["tipos"] |= {row["detTipoDoc"] for row in purchases}
    assert counts["compras"] <= set(range(5, 41))
    assert counts["ventas"] <= set(range(5, 61))
    assert counts["bhe"] <= set(range(26))
    assert max(counts["bhe"]) > 10  # so the BHE report pages
    assert counts["estados"] == {"REGISTRO", "PENDIENTE", "RECLAMADO", "NO_INCLUIR"}
    assert counts["tipos"] == {33, 34, 46, 56, 61}


@pytest.mark.parametrize(
    ("year", "rate"),
    [(2019, 0.10), (2020, 0.1075), (2023, 0.13), (2024, 0.1375), (2025, 0.145), (2026, 0.1525), (2028, 0.17)],
)
def test_bhe_retention_follows_the_ley_21133_schedule(year: int, rate: float) -> None:
    receipts = [r for month in range(1, 13) for r in data.fee_receipts(76123456, f"{year}{month:02d}")]
    assert receipts
    for row in receipts:
        bruto, retencion = int(row["totalhonorarios"]), int(row["retencion_receptor"])
        assert retencion == round(bruto * rate)
        assert int(row["honorariosliquidos"]) == bruto - retencion
        assert row["estado"] in ("N", "S")


def test_f29_total_is_computed_from_the_periods_rcv_and_bhe(company_rut: Rut) -> None:
    body = company_rut.body
    sales = data.sales(body, PERIOD)
    debits = sum(-r["detMntIVA"] if r["detTipoDoc"] == 61 else r["detMntIVA"] for r in sales)
    debits += sum(r["rsmnMntIVA"] for r in data.sales_summaries(body, PERIOD))
    registered = [r for r in data.purchases(body, PERIOD) if r["dcvEstadoContab"] == "REGISTRO"]
    credits = sum(-r["detMntIVA"] if r["detTipoDoc"] == 61 else r["detMntIVA"] for r in registered)
    withheld = sum(
        int(r["retencion_receptor"]) for r in data.fee_receipts(body, PERIOD) if r["estado"] == "N"
    )
    codes = data.f29_codes(body, PERIOD)
    assert (codes["538"], codes["537"], codes["151"]) == (debits, credits, withheld)
    assert codes["89"] == max(debits - credits, 0)
    assert codes["91"] == codes["89"] + codes["62"] + codes["151"]
    vigente = data.f29_declarations(body, PERIOD, date(2025, 7, 15))[0]
    assert (vigente["estado"], vigente["estadoDeclaracionId"], vigente["monto"]) == (
        "Vigente",
        1,
        codes["91"],
    )


def test_f29_is_empty_for_the_current_and_future_months() -> None:
    today = date(2025, 7, 15)
    assert data.f29_declarations(76123456, "202506", today)
    assert data.f29_declarations(76123456, "202507", today) == []
    assert data.f29_declarations(76123456, "202601", today) == []


def test_some_periods_also_have_a_rejected_declaration_with_another_folio() -> None:
    periods = [f"{y}{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    lists = [data.f29_declarations(76123456, p, date(2025, 7, 15)) for p in periods]
    pairs = [rows for rows in lists if len(rows) == 2]
    assert pairs
    assert all(
        rows[1]["estadoDeclaracionId"] == 70 and rows[1]["folio"] != rows[0]["folio"] for rows in pairs
    )


def test_a_fault_can_target_one_company_and_fire_a_set_number_of_times(
    raw: httpx.Client, sim: SiiSimulator, company_rut: Rut
) -> None:
    other = rut_of(77879240)
    sim.faults.add("CAutInicio.cgi", "bad_credentials", times=2, rut=str(company_rut))
    assert login(raw, other).status_code == 302
    assert "no es correcta" in login(raw, company_rut).text
    assert "no es correcta" in login(raw, company_rut).text
    assert login(raw, company_rut).status_code == 302


def test_a_fault_with_times_none_fires_always(raw: httpx.Client, sim: SiiSimulator, company_rut: Rut) -> None:
    sim.faults.add("/cgi_AUT2000/", "http:503", times=None)
    assert all(login(raw, company_rut).status_code == 503 for _ in range(3))


def test_an_unknown_fault_is_refused(sim: SiiSimulator) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        sim.faults.add("getResumen", "explode")


def test_control_endpoints_work_over_a_real_socket(
    live_sim: str, sim: SiiSimulator, company_rut: Rut
) -> None:
    with httpx.Client(base_url=live_sim, timeout=5) as http:
        assert http.get("/__sim__/health").json()["status"] == "ok"
        assert http.post("/__sim__/credentials", json={"rut": str(company_rut), "clave": "k1"}).json()["ok"]
        assert "no es correcta" in login(http, company_rut, "other").text
        fault = {"path": "getResumen", "fault": "resp_estado:7:Mantencion", "times": None}
        assert http.post("/__sim__/faults", json=fault).json() == {"ok": True, "faults": 1}
        login(http, company_rut, "k1")
        assert resp_estado(http.post(RCV + "getResumen", json=rcv_body(company_rut))) == (7, "Mantencion")
        assert http.delete("/__sim__/faults").json()["ok"]
        assert resp_estado(http.post(RCV + "getResumen", json=rcv_body(company_rut)))[0] == 0
        assert http.get("/__sim__/health").json()["sessions"] == 1
        assert http.post("/__sim__/reset").json()["ok"]
        assert http.get("/__sim__/health").json() == {"status": "ok", "sessions": 0, "faults": 0}
        assert http.post("/__sim__/faults", json={"path": "x", "fault": "nope"}).status_code == 400


def test_new_faults_work_over_the_control_endpoint(live_sim: str, company_rut: Rut) -> None:
    with httpx.Client(base_url=live_sim, timeout=5) as http:
        faults = [
            {"path": "getResumen", "fault": "error_msg:Acceso no autorizado!", "times": 1},
            {"path": "/cgi_IMT/", "fault": "bhe_count:250", "times": None, "rut": str(company_rut)},
        ]
        assert [http.post("/__sim__/faults", json=f).status_code for f in faults] == [200, 200]
        login(http, company_rut)
        assert http.post(RCV + "getResumen", json=rcv_body(company_rut)).json() == {
            "errorMsg": "Acceso no autorizado!"
        }
        third = bhe(http, company_rut, page=3)
        assert "var CantidadFilas=50;" in third
        assert "xml_values['cant_boletas'] = \"250\";" in third
        assert "xml_values['pagina_solicitada'] = \"3\";" in third
        bad = {"path": "/cgi_IMT/", "fault": "bhe_count:many"}
        assert http.post("/__sim__/faults", json=bad).status_code == 400


def test_bhe_repeat_first_page_serves_page_one_for_every_page(
    wire: httpx.Client, sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.faults.add(BHE, "bhe_repeat_first_page:150", times=None)
    first, second = bhe(wire, company_rut, page=1), bhe(wire, company_rut, page=2)
    assert first == second
    assert "var CantidadFilas=100;" in second


def test_a_reset_fault_closes_a_real_socket_without_a_response(live_sim: str, sim: SiiSimulator) -> None:
    sim.faults.add("autTermino.cgi", "reset")
    with httpx.Client(base_url=live_sim, timeout=5) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get("/cgi_AUT2000/autTermino.cgi")


SIMULATOR_DIR = Path(sii.simulator.__file__).parent


def imported_modules(source: str, package: str) -> set[str]:
    """Every module the source imports, anywhere (TYPE_CHECKING blocks too); `from a import b` gives a and a.b."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1] if node.level else [])
            base = ".".join(filter(None, (base, node.module)))
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from sii.simulator.app import SiiSimulator",
        "if TYPE_CHECKING:\n    from sii.simulator import app",
        "from . import app",
        "from .app import ROUTES",
        "import sii.simulator.app as the_app",
    ],
)
def test_the_import_check_sees_every_way_of_importing_the_app(source: str) -> None:
    assert "sii.simulator.app" in imported_modules(source, "sii.simulator")


def test_only_app_py_imports_the_app_the_routes_share_the_state_module_instead() -> None:
    modules = sorted(SIMULATOR_DIR.rglob("*.py"))
    assert {path.name for path in modules} >= {"app.py", "state.py", "auth.py", "faults.py"}
    offenders = [
        str(path.relative_to(SIMULATOR_DIR))
        for path in modules
        if path.name != "app.py"
        and "sii.simulator.app" in imported_modules(path.read_text(), _package_of(path))
    ]
    assert offenders == []


def _package_of(path: Path) -> str:
    return ".".join(("sii", "simulator", *path.parent.relative_to(SIMULATOR_DIR).parts))
