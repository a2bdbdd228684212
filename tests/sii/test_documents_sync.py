"""documents_sync against the in-process simulator, over the real HTTP client."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sii.models import FeeReceipt, PurchaseDocument, RcvSummary, SaleDocument
from sii.services.documents import documents_sync
from sii.services.periods import periods_ending
from sii.simulator import data

pytestmark = pytest.mark.django_db


def expected_counts(company, periods):
    body = company.rut_body
    return {
        "compras": sum(len(data.purchases(body, p)) for p in periods),
        "ventas": sum(len(data.sales(body, p)) for p in periods),
        "honorarios": sum(
            len(data.fee_receipts(body, p)) + len(data.issued_fee_receipts(body, p)) for p in periods
        ),
    }


def test_sync_stores_every_purchase_sale_and_fee_receipt_of_the_months(company, client_for):
    periods = periods_ending(months=2, month_offset=1)

    result = documents_sync(company=company, months=2, month_offset=1, client=client_for(company))

    expected = expected_counts(company, periods)
    assert PurchaseDocument.objects.filter(company=company).count() == expected["compras"]
    assert SaleDocument.objects.filter(company=company).count() == expected["ventas"]
    assert FeeReceipt.objects.filter(company=company).count() == expected["honorarios"]
    for surface in ("compras", "ventas", "honorarios"):
        assert result[surface]["total"] == expected[surface]
        assert result[surface]["created"] == expected[surface]
        assert result[surface]["period"] == periods[-1]
        assert sorted(result[surface]["periods"]) == periods
    assert result["success"] is True


def test_sync_stores_fee_receipts_of_both_directions_and_counts_each(company, client_for):
    periods = periods_ending(months=3, month_offset=1)
    received = {p: len(data.fee_receipts(company.rut_body, p)) for p in periods}
    issued = {p: len(data.issued_fee_receipts(company.rut_body, p)) for p in periods}
    assert sum(issued.values()) > 0  # the company's months do hold issued boletas

    result = documents_sync(company=company, months=3, month_offset=1, client=client_for(company))

    honorarios = result["honorarios"]
    assert (honorarios["recibidas"], honorarios["emitidas"]) == (sum(received.values()), sum(issued.values()))
    assert honorarios["total"] == honorarios["recibidas"] + honorarios["emitidas"]
    for period in periods:
        assert (honorarios["periods"][period]["recibidas"], honorarios["periods"][period]["emitidas"]) == (
            received[period],
            issued[period],
        )
    emitidas = FeeReceipt.objects.filter(company=company, direction=FeeReceipt.Direction.EMITIDA)
    assert emitidas.count() == sum(issued.values())
    assert set(emitidas.values_list("issuer_rut", "issuer_dv")) == {(company.rut_body, company.rut_dv)}
    assert not emitidas.filter(receptor_rut=None).exists()
    recibidas = FeeReceipt.objects.filter(company=company, direction=FeeReceipt.Direction.RECIBIDA)
    assert recibidas.count() == sum(received.values())
    assert not recibidas.exclude(receptor_rut=None).exists()

    again = documents_sync(company=company, months=3, month_offset=1, client=client_for(company))
    assert again["honorarios"]["created"] == again["honorarios"]["updated"] == 0
    assert FeeReceipt.objects.filter(company=company).count() == honorarios["total"]


def test_resync_of_the_same_data_creates_nothing_and_writes_nothing(company, client_for):
    documents_sync(company=company, months=1, client=client_for(company))

    with CaptureQueriesContext(connection) as queries:
        again = documents_sync(company=company, months=1, client=client_for(company))

    for surface in ("compras", "ventas", "honorarios"):
        assert again[surface]["created"] == 0
        assert again[surface]["updated"] == 0
        assert again[surface]["unchanged"] == again[surface]["total"]
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    # Only each surface's freshness is written again: its sync time is new.
    assert [sql for sql in writes if '"sii_surfacesync"' not in sql] == []
    assert len(writes) == 3


def test_a_changed_document_is_updated_in_place(company, client_for):
    documents_sync(company=company, months=1, client=client_for(company))
    document = PurchaseDocument.objects.filter(company=company).first()
    PurchaseDocument.objects.filter(pk=document.pk).update(monto_total=1, estado_contable="PENDIENTE")

    again = documents_sync(company=company, months=1, client=client_for(company))

    document.refresh_from_db()
    assert document.monto_total == document.raw["detMntTotal"]
    assert again["compras"]["updated"] == 1
    assert again["compras"]["created"] == 0


def test_summary_only_sales_types_are_stored_as_monthly_totals(company, client_for):
    period = periods_ending(months=1, month_offset=1)[0]

    documents_sync(company=company, months=1, month_offset=1, client=client_for(company))

    stored = RcvSummary.objects.filter(company=company, operacion="VENTA", period=period)
    expected = data.sales_summaries(company.rut_body, period)
    assert stored.count() == len(expected)
    assert not SaleDocument.objects.filter(company=company, tipo_doc__in=[39, 41]).exists()


def test_amounts_are_stored_as_integer_clp_that_add_up(company, client_for):
    documents_sync(company=company, months=1, month_offset=1, client=client_for(company))

    for document in SaleDocument.objects.filter(company=company):
        assert document.monto_total == document.monto_neto + document.monto_iva + document.monto_exento


def test_progress_is_reported_before_each_surface_of_each_period(company, client_for):
    steps = []

    def record(*, current, total, step):
        steps.append((current, total, step))

    documents_sync(company=company, months=2, month_offset=0, client=client_for(company), progress=record)

    older, newer = periods_ending(months=2, month_offset=0)
    assert steps == [
        (1, 6, f"compras {older}"),
        (2, 6, f"ventas {older}"),
        (3, 6, f"honorarios {older}"),
        (4, 6, f"compras {newer}"),
        (5, 6, f"ventas {newer}"),
        (6, 6, f"honorarios {newer}"),
    ]


class Revoked(Exception):
    """What a task's progress callback raises when its run was revoked."""


def test_a_stopped_sync_keeps_the_periods_it_already_saved(company, client_for):
    older, newer = periods_ending(months=2, month_offset=1)

    def stop_at_the_second_period(*, current, total, step):
        if step.endswith(newer):
            raise Revoked()

    with pytest.raises(Revoked):
        documents_sync(
            company=company, months=2, month_offset=1, client=client_for(company),
            progress=stop_at_the_second_period,
        )  # fmt: skip

    stored_periods = set(PurchaseDocument.objects.filter(company=company).values_list("period", flat=True))
    assert stored_periods == {older}
    company.refresh_from_db()
    assert company.last_documents_sync_at is None
