"""The simulator's answers against the hand-written §9 contract answers: same keys and value types per surface."""

import re

import httpx
import pytest

from sii.rut import Rut
from sii.simulator.app import SiiSimulator
from tests.sii.contract_answers import bhe_page_text, credit_note_row, f29_row, rcv_body, resumen_row
from tests.sii.test_simulator import BHE, BROWSER, F29, RCV, f29_body, login
from tests.sii.test_simulator import rcv_body as request_body

PERIODS = ("202409", "202501", "202503", "202506")
# A resumen row may lack rsmnMntExe entirely (§9).
OPTIONAL_RESUMEN_KEYS = {"rsmnMntExe"}


def kinds(row: dict) -> dict[str, str]:
    """Each key's value type; bool apart from int, and None as 'null' (allowed for any key)."""
    return {key: type(value).__name__ for key, value in row.items()}


def assert_same_shape(simulated: dict, contract: dict, optional: set[str] = frozenset()) -> None:
    assert set(contract) - optional <= set(simulated) <= set(contract), (
        f"only simulated: {sorted(set(simulated) - set(contract))}, "
        f"only in the contract: {sorted(set(contract) - set(simulated) - optional)}"
    )
    ours, theirs = kinds(simulated), kinds(contract)
    differ = {
        k: (ours[k], theirs[k])
        for k in ours
        if "NoneType" not in (ours[k], theirs[k]) and ours[k] != theirs[k]
    }
    assert not differ, f"value types differ (simulator, contract): {differ}"


@pytest.fixture
def wire(raw: httpx.Client, company_rut: Rut) -> httpx.Client:
    assert login(raw, company_rut).status_code == 302
    return raw


def rcv(wire: httpx.Client, rut: Rut, method: str, period: str, **params: object) -> dict:
    return wire.post(RCV + method, json=request_body(rut, method, ptributario=period, **params)).json()


def test_resumen_envelope_cabecera_and_rows_match_the_contract(wire: httpx.Client, company_rut: Rut) -> None:
    contract = rcv_body(0, [resumen_row()], detail=False)
    for period in PERIODS:
        for operacion in ("COMPRA", "VENTA"):
            answer = rcv(wire, company_rut, "getResumen", period, operacion=operacion)
            assert_same_shape(answer, contract)
            assert_same_shape(answer["metaData"], contract["metaData"])
            assert_same_shape(answer["dataCabecera"], contract["dataCabecera"])
            for row in answer["data"]:
                assert_same_shape(row, contract["data"][0], OPTIONAL_RESUMEN_KEYS)


def test_detail_envelope_and_purchase_rows_match_the_contract(wire: httpx.Client, company_rut: Rut) -> None:
    contract, seen = rcv_body(0, [credit_note_row(7)]), 0
    for period in PERIODS:
        for tipo in (33, 34, 46, 56, 61):
            answer = rcv(wire, company_rut, "getDetalleCompra", period, codTipoDoc=tipo)
            assert_same_shape(answer, contract)
            assert answer["dataCabecera"] is None
            for row in answer["data"] or []:
                assert_same_shape(row, contract["data"][0])
                seen += 1
    assert seen


def test_purchase_credit_notes_come_with_a_null_type_and_state_as_observed(
    wire: httpx.Client, company_rut: Rut
) -> None:
    rows = [
        r for p in PERIODS for r in rcv(wire, company_rut, "getDetalleCompra", p, codTipoDoc=61)["data"] or []
    ]
    assert rows
    assert {(r["detTipoDoc"], r["dcvEstadoContab"]) for r in rows} == {(None, None)}
    assert {r["detTasaImp"] for r in rows} <= {"19", "0"}


def test_no_movement_is_code_3_with_data_null_on_both_surfaces(wire: httpx.Client, company_rut: Rut) -> None:
    for method in ("getResumen", "getDetalleCompra"):
        answer = rcv(wire, company_rut, method, "202512", codTipoDoc=33)
        assert (answer["respEstado"]["codRespuesta"], answer["data"]) == (3, None)
        assert_same_shape(answer, rcv_body(3, None, detail=method != "getResumen"))


def test_f29_rows_match_the_contract(wire: httpx.Client, company_rut: Rut) -> None:
    rows = wire.post(F29, json=f29_body(company_rut)).json()["data"]
    assert rows
    for row in rows:
        assert_same_shape(row, f29_row())
        assert re.match(r"^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d$", row["declFechaCreacion"])


def xml_value_keys(page: str) -> set[str]:
    return set(re.findall(r"xml_values\['(\w+)'\]", page))


def row_keys(page: str) -> set[str]:
    return set(re.findall(r"arr_informe_mensual\['(\w+?)_\d+'\]", page))


def test_bhe_page_declares_the_contract_s_keys(
    wire: httpx.Client, sim: SiiSimulator, company_rut: Rut
) -> None:
    sim.faults.add(BHE, "bhe_count:150", times=None)
    params = {"rut_arrastre": str(company_rut.body), "dv_arrastre": company_rut.dv}
    params |= {"cbanoinformemensual": "2025", "cbmesinformemensual": "03", "pagina_solicitada": "1"}
    response = wire.get(BHE, params=params, headers=BROWSER)
    page, contract = response.content.decode("iso-8859-1"), bhe_page_text(150, range(1, 101))
    assert response.headers["content-type"] == "text/html"
    assert xml_value_keys(page) == xml_value_keys(contract)
    assert row_keys(page) == row_keys(contract)
    for declaration in ("var MAXFILAS=100;", "var CantidadFilas=100;", "xml_values['suma_honorarios'] = 0;"):
        assert declaration in page
        assert declaration in contract
    assert "xml_values['suma_honorarios'] += " in page
    assert re.search(r"xml_values\['nombre_contribuyente'\] = \"[^\"]+ \";", page)
