"""What the SII client returns: typed rows, each keeping the raw SII row."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

# A JSON object as the SII sends it (rows keep theirs verbatim in `raw`).
JsonObject = dict[str, Any]
Operacion = Literal["COMPRA", "VENTA"]
EstadoContable = Literal["REGISTRO", "PENDIENTE", "NO_INCLUIR", "RECLAMADO"]
ESTADOS_COMPRA: tuple[EstadoContable, ...] = ("REGISTRO", "PENDIENTE", "NO_INCLUIR", "RECLAMADO")


@dataclass(frozen=True)
class RcvSummaryRow:
    """One row of getResumen: totals of one document type in a period."""

    tipo_doc: int
    nombre: str
    total_documentos: int
    monto_exento: int
    monto_neto: int
    monto_iva: int
    monto_total: int
    # True for types the RCV holds only as monthly totals (boletas 39/41, ...): no detail rows.
    summary_only: bool
    raw: JsonObject = field(repr=False)


@dataclass(frozen=True)
class RcvResumen:
    rows: list[RcvSummaryRow]
    modified_at: datetime | None  # dataCabecera.dcvFecModificacion


@dataclass(frozen=True)
class RcvDocumentRow:
    """One row of getDetalleCompra / getDetalleVenta."""

    tipo_doc: int
    folio: int
    counterparty_rut: int
    counterparty_dv: str
    counterparty_name: str
    issued_on: date | None
    received_at: datetime | None
    acknowledged_at: datetime | None
    claimed_at: datetime | None
    monto_exento: int
    monto_neto: int
    monto_iva: int
    monto_total: int
    monto_iva_no_recuperable: int
    estado_contable: str | None
    raw: JsonObject = field(repr=False)


@dataclass(frozen=True)
class FeeReceiptRow:
    """One boleta de honorarios from a BHE monthly report (received or issued)."""

    numero: int
    issuer_rut: int
    issuer_dv: str
    issuer_name: str
    # The counterparty of an issued boleta (rutreceptor...); None/blank on a received one.
    receptor_rut: int | None
    receptor_dv: str
    receptor_name: str
    issued_on: date
    monto_bruto: int
    retencion: int  # retencion_receptor: withheld by the receptor
    retencion_emisor: int  # withheld by the issuer itself (issued boletas only; 0 on received ones)
    monto_liquido: int
    anulada: bool
    anulada_on: date | None
    sociedad_profesional: bool
    codigo_barras: str
    raw: JsonObject = field(repr=False)


@dataclass(frozen=True)
class F29Row:
    """One declaration of a period from getDeclaracionConEstados."""

    folio: int
    estado_id: int | None
    estado: str
    filed_on: date | None
    total_a_pagar: int | None
    raw: JsonObject = field(repr=False)
