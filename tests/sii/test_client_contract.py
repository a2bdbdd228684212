"""The client against answers in the live SII's real shapes (sii-contracts §9), over its HTTP path.

The answers (tests/sii/contract_answers.py) are written from the contract document; the simulator
serves login and every other call, so each one goes through the real SiiClient.
"""

from collections.abc import Callable

import httpx
import pytest

from sii.client.errors import SiiIncompleteMonth, SiiRejected
from tests.sii.contract_answers import Answer, bhe_page, credit_note_row, rcv_envelope

PERIOD = "202506"


class AnswersFirst(httpx.BaseTransport):
    """Answers the calls whose path ends with a key of `answers` (in turn, the last repeating);
    the simulator answers the rest."""

    def __init__(self, simulator: httpx.BaseTransport, answers: dict[str, list[Answer]]) -> None:
        self.simulator, self.answers, self.calls = simulator, answers, dict.fromkeys(answers, 0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for suffix, answers in self.answers.items():
            if request.url.path.endswith(suffix):
                self.calls[suffix] += 1
                return answers[min(self.calls[suffix], len(answers)) - 1](request)
        return self.simulator.handle_request(request)


@pytest.fixture
def client_answering(make_client, sim) -> Callable[..., object]:
    def build(answers: dict[str, list[Answer]]):
        transport = AnswersFirst(sim.transport(), answers)
        return make_client(transport=transport), transport

    return build


def detail(client, tipo_doc: int = 61):
    return client.rcv_detalle(period=PERIOD, operacion="COMPRA", tipo_doc=tipo_doc, estado="REGISTRO")


def test_credit_notes_with_a_null_type_and_state_take_the_request_s(client_answering):
    client, _ = client_answering(
        {"getDetalleCompra": [rcv_envelope(0, [credit_note_row(7), credit_note_row(8)])]}
    )

    rows = detail(client)

    assert [(row.tipo_doc, row.folio, row.estado_contable) for row in rows] == [
        (61, 7, "REGISTRO"),
        (61, 8, "REGISTRO"),
    ]
    assert (rows[0].monto_neto, rows[0].monto_iva_no_recuperable, rows[0].counterparty_dv) == (100000, 0, "K")
    # Kept as the SII sent them.
    assert rows[0].raw["detTabPuros"] is None
    assert rows[0].raw["detTasaImp"] == "0"


@pytest.mark.parametrize("code", [3, 99])
def test_no_movement_is_an_empty_answer_on_detail_and_resumen(client_answering, code):
    empty = rcv_envelope(code, None, "Sin movimientos")
    client, _ = client_answering({"getDetalleCompra": [empty], "getResumen": [empty]})

    assert detail(client) == []
    assert client.rcv_resumen(period=PERIOD, operacion="COMPRA").rows == []


def test_code_98_logs_in_again_once_and_then_reads_the_rows(client_answering, sim):
    client, transport = client_answering(
        {
            "getDetalleCompra": [
                rcv_envelope(98, None, "requiere redirección"),
                rcv_envelope(0, [credit_note_row(7)]),
            ]
        }
    )

    assert [row.folio for row in detail(client)] == [7]
    assert transport.calls["getDetalleCompra"] == 2
    assert sim.requests_to("CAutInicio.cgi") == 2


def test_an_error_message_without_a_state_is_refused_with_its_text_the_call_and_the_period(client_answering):
    refused = lambda request: httpx.Response(200, json={"errorMsg": "Acceso no autorizado!"})  # noqa: E731
    client, _ = client_answering({"getDetalleCompra": [refused]})

    with pytest.raises(SiiRejected, match=rf"getDetalleCompra {PERIOD}: Acceso no autorizado!"):
        detail(client)


def test_a_row_that_cannot_be_read_fails_the_period_naming_the_field_and_the_folio(client_answering):
    rows = [credit_note_row(7), credit_note_row(8, detFchDoc="31/02/2025")]
    client, _ = client_answering({"getDetalleCompra": [rcv_envelope(0, rows)]})

    with pytest.raises(SiiRejected, match=r"field detFchDoc = '31/02/2025' of folio 8"):
        detail(client)


def test_a_bhe_month_whose_pages_fall_short_of_the_declared_count_is_never_taken_as_complete(
    client_answering,
):
    page_one = bhe_page(declared=250, folios=range(1, 101))
    client, transport = client_answering(
        {"TMBCOC_InformeMensualBheRec.cgi": [page_one]}
    )  # page 1, again and again

    with pytest.raises(SiiIncompleteMonth, match=rf"bhe {PERIOD}: the SII listed 100 of the 250 boletas"):
        client.bhe_recibidas(period=PERIOD)
    assert transport.calls["TMBCOC_InformeMensualBheRec.cgi"] == 2  # it stops at the repeated page


def test_a_bhe_month_read_across_pages_is_complete_and_names_are_decoded(client_answering):
    pages = [
        bhe_page(250, range(1, 101), "GARC&Iacute;A &amp; CIA"),
        bhe_page(250, range(101, 201)),
        bhe_page(250, range(201, 251)),
    ]
    client, _ = client_answering({"TMBCOC_InformeMensualBheRec.cgi": pages})

    receipts = client.bhe_recibidas(period=PERIOD)

    assert sorted(receipt.numero for receipt in receipts) == list(range(1, 251))
    assert receipts[0].issuer_name == "GARCÍA & CIA"
