"""Sync a company's purchases, sales and fee receipts (RCV + BHE) from the SII."""

import dataclasses
from collections.abc import Callable

from django.utils import timezone

from sii.client.http import SiiClient
from sii.client.types import ESTADOS_COMPRA, EstadoContable, Operacion, RcvDocumentRow, RcvSummaryRow
from sii.metrics import sii_rows_count
from sii.models import Company, FeeReceipt, PurchaseDocument, RcvSummary, SaleDocument, SurfaceSync
from sii.services.clients import sii_client_for
from sii.services.freshness import surface_sync_record
from sii.services.periods import periods_ending
from sii.services.progress import Progress, no_progress
from sii.services.upserts import UpsertCounts, rows_upsert

DOCUMENT_KEY = ("tipo_doc", "counterparty_rut", "folio")
SUMMARY_KEY = ("period", "operacion", "estado_contable", "tipo_doc")
FEE_RECEIPT_KEY = ("direction", "issuer_rut", "numero")
SURFACES = ("compras", "ventas", "honorarios")
FRESHNESS_SURFACES = {
    "compras": SurfaceSync.Surface.PURCHASES,
    "ventas": SurfaceSync.Surface.SALES,
    "honorarios": SurfaceSync.Surface.FEE_RECEIPTS,
}


def documents_sync(
    *,
    company: Company,
    months: int = 1,
    month_offset: int = 0,
    progress: Progress = no_progress,
    client: SiiClient | None = None,
) -> dict:
    """Sync `months` periods ending `month_offset` months before the current one.

    Each period and surface is saved as soon as it is fetched, so a sync stopped half-way
    keeps what it did, and running it again only fills in the rest. A surface is recorded fresh
    once its last period is saved: a sync that fails on fee receipts still freshens purchases.
    """
    periods = periods_ending(months=months, month_offset=month_offset)
    steps = [(surface, period) for period in periods for surface in SURFACES]
    report = {surface: _SurfaceReport() for surface in SURFACES}
    with client or sii_client_for(company) as sii:
        for number, (surface, period) in enumerate(steps, start=1):
            progress(current=number, total=len(steps), step=f"{surface} {period}")
            report[surface].add(period, _SYNC_STEP[surface](sii, company, period))
            if period == periods[-1]:
                surface_sync_record(company=company, surface=FRESHNESS_SURFACES[surface], periods=periods)
    Company.objects.filter(pk=company.pk).update(last_documents_sync_at=timezone.now())
    return {"success": True, **{surface: report[surface].as_dict() for surface in SURFACES}}


class _SurfaceReport:
    def __init__(self) -> None:
        self.counts = UpsertCounts()
        self.periods: dict[str, dict[str, int]] = {}
        self.extra: dict[str, int] = {}

    def add(self, period: str, result: tuple[UpsertCounts, dict]) -> None:
        counts, extra = result
        self.counts += counts
        self.periods[period] = {**counts.as_dict(), **extra}
        for name, value in extra.items():
            self.extra[name] = self.extra.get(name, 0) + value

    def as_dict(self) -> dict:
        latest = max(self.periods) if self.periods else None
        return {**self.counts.as_dict(), "period": latest, **self.extra, "periods": self.periods}


def _sync_compras(sii: SiiClient, company: Company, period: str) -> tuple[UpsertCounts, dict]:
    documents, summaries = [], []
    for estado in ESTADOS_COMPRA:
        found, totals = _fetch_rcv(sii, period=period, operacion="COMPRA", estado=estado)
        documents += [_purchase_fields(row, period, estado) for row in found]
        summaries += [_summary_fields(row, period, "COMPRA", estado) for row in totals]
    counts = rows_upsert(model=PurchaseDocument, company=company, rows=documents, key_fields=DOCUMENT_KEY)
    sii_rows_count(surface="purchases", counts=counts)
    return counts, {"summaries": _upsert_summaries(company, summaries)}


def _sync_ventas(sii: SiiClient, company: Company, period: str) -> tuple[UpsertCounts, dict]:
    found, totals = _fetch_rcv(sii, period=period, operacion="VENTA", estado="REGISTRO")
    documents = [_sale_fields(row, period) for row in found]
    summaries = [_summary_fields(row, period, "VENTA", "REGISTRO") for row in totals]
    counts = rows_upsert(model=SaleDocument, company=company, rows=documents, key_fields=DOCUMENT_KEY)
    sii_rows_count(surface="sales", counts=counts)
    return counts, {"summaries": _upsert_summaries(company, summaries)}


def _sync_honorarios(sii: SiiClient, company: Company, period: str) -> tuple[UpsertCounts, dict]:
    """Both directions: the block's counts cover both, and "recibidas"/"emitidas" split the total."""
    counts, per_direction = UpsertCounts(), {}
    for name, direction, fetch in (
        ("recibidas", FeeReceipt.Direction.RECIBIDA, sii.bhe_recibidas),
        ("emitidas", FeeReceipt.Direction.EMITIDA, sii.bhe_emitidas),
    ):
        rows = [
            {**dataclasses.asdict(row), "period": period, "direction": direction}
            for row in fetch(period=period)
        ]
        found = rows_upsert(model=FeeReceipt, company=company, rows=rows, key_fields=FEE_RECEIPT_KEY)
        sii_rows_count(surface="fee_receipts", counts=found)
        counts += found
        per_direction[name] = found.total
    return counts, per_direction


_SYNC_STEP: dict[str, Callable[[SiiClient, Company, str], tuple[UpsertCounts, dict]]] = {
    "compras": _sync_compras,
    "ventas": _sync_ventas,
    "honorarios": _sync_honorarios,
}


def _fetch_rcv(
    sii: SiiClient, *, period: str, operacion: Operacion, estado: EstadoContable
) -> tuple[list[RcvDocumentRow], list[RcvSummaryRow]]:
    """getResumen, then getDetalle* for each document type that has rows."""
    resumen = sii.rcv_resumen(period=period, operacion=operacion, estado=estado)
    documents = []
    for row in resumen.rows:
        if not row.summary_only and row.total_documentos > 0:
            documents += sii.rcv_detalle(
                period=period, operacion=operacion, tipo_doc=row.tipo_doc, estado=estado
            )
    return documents, [row for row in resumen.rows if row.summary_only]


def _purchase_fields(row: RcvDocumentRow, period: str, estado: str) -> dict:
    return {**dataclasses.asdict(row), "period": period, "estado_contable": estado}


def _sale_fields(row: RcvDocumentRow, period: str) -> dict:
    fields = {**dataclasses.asdict(row), "period": period}
    del fields["estado_contable"], fields["monto_iva_no_recuperable"]
    return fields


def _summary_fields(row: RcvSummaryRow, period: str, operacion: str, estado: str) -> dict:
    fields = {**dataclasses.asdict(row), "period": period, "operacion": operacion, "estado_contable": estado}
    del fields["nombre"], fields["summary_only"]
    return fields


def _upsert_summaries(company: Company, summaries: list[dict]) -> int:
    counts = rows_upsert(model=RcvSummary, company=company, rows=summaries, key_fields=SUMMARY_KEY)
    sii_rows_count(surface="rcv_summaries", counts=counts)
    return counts.total
