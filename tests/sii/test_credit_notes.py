"""Credit notes: stored with the SII's positive amounts, subtracted in signed amounts and totals."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sii import doctypes, selectors
from sii.models import PurchaseDocument, RcvSummary, SaleDocument
from tests.factories import (
    CompanyFactory,
    PurchaseDocumentFactory,
    RcvSummaryFactory,
    SaleDocumentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

INVOICE = {
    "tipo_doc": 33,
    "monto_exento": 5_000,
    "monto_neto": 100_000,
    "monto_iva": 19_000,
    "monto_total": 124_000,
}
CREDIT_NOTE = {
    "tipo_doc": 61,
    "monto_exento": 0,
    "monto_neto": 40_000,
    "monto_iva": 7_600,
    "monto_total": 47_600,
}


@pytest.fixture
def console(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


# The type list


def test_every_credit_note_type_of_the_contract_subtracts_and_nothing_else_does():
    assert sorted(doctypes.CREDIT_NOTE_TYPES) == [60, 61, 106, 112]
    assert [doctypes.sign(tipo) for tipo in (33, 34, 46, 56, 111, 39, 61, 112)] == [1] * 6 + [-1] * 2


# Signed amounts per row


@pytest.mark.parametrize("factory", [PurchaseDocumentFactory, SaleDocumentFactory])
@pytest.mark.parametrize("tipo_doc", sorted(doctypes.CREDIT_NOTE_TYPES))
def test_a_credit_note_keeps_positive_columns_and_offers_negative_signed_amounts(factory, tipo_doc):
    note = factory(**(CREDIT_NOTE | {"tipo_doc": tipo_doc, "monto_exento": 1_000}))
    note.refresh_from_db()

    assert (note.monto_neto, note.monto_iva, note.monto_total) == (40_000, 7_600, 47_600)
    assert note.is_credit_note
    assert note.sign == -1
    signed = (note.signed_exento, note.signed_neto, note.signed_iva, note.signed_total)
    assert signed == (-1_000, -40_000, -7_600, -47_600)


@pytest.mark.parametrize("tipo_doc", [33, 34, 56, 110])
def test_invoices_and_debit_notes_keep_their_sign(tipo_doc):
    document = SaleDocumentFactory(**(INVOICE | {"tipo_doc": tipo_doc}))

    assert not document.is_credit_note
    assert document.sign == 1
    assert (document.signed_neto, document.signed_total) == (100_000, 124_000)


def test_a_summary_row_is_signed_too():
    summary = RcvSummaryFactory(tipo_doc=61, monto_total=10_000)

    assert summary.signed_total == -10_000


# A period's net totals, in SQL


def test_a_period_of_invoices_and_credit_notes_nets_in_one_query():
    company = CompanyFactory()
    PurchaseDocumentFactory.create_batch(2, company=company, **INVOICE)
    PurchaseDocumentFactory(company=company, **CREDIT_NOTE)

    with CaptureQueriesContext(connection) as queries:
        totals = PurchaseDocument.objects.period_totals(company=company, period="202501")

    assert totals == {"exento": 10_000, "neto": 160_000, "iva": 30_400, "total": 200_400}
    assert len(queries) == 1
    assert "CASE WHEN" in queries[0]["sql"].upper()


def test_net_totals_leave_out_other_periods_and_companies_and_are_zero_when_empty():
    company = CompanyFactory()
    SaleDocumentFactory(company=company, period="202502", **INVOICE)
    SaleDocumentFactory(period="202501", **CREDIT_NOTE)

    totals = SaleDocument.objects.period_totals(company=company, period="202501")

    assert totals == {"exento": 0, "neto": 0, "iva": 0, "total": 0}


def test_credit_notes_can_take_a_period_below_zero():
    company = CompanyFactory()
    SaleDocumentFactory(company=company, **(CREDIT_NOTE | {"tipo_doc": 112}))

    assert SaleDocument.objects.period_totals(company=company, period="202501")["total"] == -47_600


def test_period_purchases_count_the_registro_and_its_monthly_summaries():
    company = CompanyFactory()
    PurchaseDocumentFactory(company=company, **INVOICE)
    PurchaseDocumentFactory(company=company, **CREDIT_NOTE)
    PurchaseDocumentFactory(company=company, estado_contable="RECLAMADO", **INVOICE)
    RcvSummaryFactory(company=company, operacion="COMPRA", tipo_doc=48, monto_total=9_000)
    RcvSummaryFactory(company=company, operacion="VENTA", tipo_doc=39, monto_total=70_000)

    totals = selectors.rcv_period_totals(company=company, period="202501", operacion="COMPRA")
    reclaimed = selectors.rcv_period_totals(
        company=company, period="202501", operacion="COMPRA", estado_contable="RECLAMADO"
    )

    assert totals == {"exento": 5_000, "neto": 60_000, "iva": 11_400, "total": 85_400}
    assert reclaimed["total"] == 124_000


def test_period_sales_add_boleta_totals_and_subtract_credit_notes():
    company = CompanyFactory()
    SaleDocumentFactory(company=company, **INVOICE)
    SaleDocumentFactory(company=company, **CREDIT_NOTE)
    RcvSummaryFactory(company=company, operacion=RcvSummary.Operacion.VENTA, tipo_doc=39, monto_total=70_000)

    totals = selectors.rcv_period_totals(company=company, period="202501", operacion="VENTA")

    assert totals == {"exento": 5_000, "neto": 60_000, "iva": 11_400, "total": 146_400}


def test_an_unknown_operacion_is_refused():
    with pytest.raises(ValueError, match="COMPRA or VENTA"):
        selectors.rcv_period_totals(company=CompanyFactory(), period="202501", operacion="compra")


# The admin


@pytest.mark.parametrize(
    ("factory", "model"),
    [(PurchaseDocumentFactory, "purchasedocument"), (SaleDocumentFactory, "saledocument")],
)
def test_the_admin_lists_show_the_signed_total(console, factory, model):
    factory(folio=11, **INVOICE)
    factory(folio=12, **(CREDIT_NOTE | {"monto_total": 1_190_000}))

    page = console.get(reverse(f"admin:sii_{model}_changelist")).content.decode()

    assert "Signed total" in page
    assert sorted(re.findall(r'class="[^"]*field-signed_total[^"]*"[^>]*>\s*([^<\s]+)', page)) == [
        "-1.190.000",
        "124.000",
    ]


def test_the_signed_total_column_sorts_credit_notes_first(console):
    invoice = PurchaseDocumentFactory(**INVOICE)
    note = PurchaseDocumentFactory(**CREDIT_NOTE)
    url = reverse("admin:sii_purchasedocument_changelist")
    column = list(console.get(url).context["cl"].list_display).index("signed_total")

    ordered = console.get(url, {"o": str(column)}).context["cl"].result_list

    assert list(ordered) == [note, invoice]
