"""Deterministic SII data per (RUT, period): the public functions tests use to compute expectations."""

# Purchases, sales and BHE come from generators keyed by a hash of (RUT, period), so every call,
# process and simulator instance agrees. The F29 is computed from that same RCV and BHE data.

import random
from datetime import date, timedelta

from sii.simulator.documents import (
    CREDIT_NOTE_TYPES,
    purchases,
    resumen,
    sales,
    sales_summaries,
    split_period,
    vat,
)
from sii.simulator.fees import fee_receipts, issued_fee_receipts, retention, retention_rate_bp
from sii.simulator.names import rng_for

__all__ = [
    "f29_codes",
    "f29_declarations",
    "fee_receipts",
    "issued_fee_receipts",
    "purchases",
    "resumen",
    "retention",
    "retention_rate_bp",
    "sales",
    "sales_summaries",
    "split_period",
    "vat",
]


def f29_codes(rut_body: int, period: str) -> dict[str, int]:
    """The F29 the company would file: 538/537 from the RCV, 62 PPM, 151 BHE withholding, 91 total.

    Credit notes (61) count negative, as in a real F29; 537 counts only REGISTRO purchases.
    """
    sold, bought = sales(rut_body, period), purchases(rut_body, period)
    debits = sum(_signed(row, "detMntIVA") for row in sold)
    debits += sum(row["rsmnMntIVA"] for row in sales_summaries(rut_body, period))
    credits = sum(_signed(row, "detMntIVA") for row in bought if row["dcvEstadoContab"] == "REGISTRO")
    base = max(sum(_signed(row, "detMntNeto") + _signed(row, "detMntExe") for row in sold), 0)
    rate = _ppm_rate_bp(rut_body)
    withheld = sum(int(r["retencion_receptor"]) for r in fee_receipts(rut_body, period) if r["estado"] == "N")
    iva, ppm = max(debits - credits, 0), base * rate // 10000
    codes = {"538": debits, "537": credits, "89": iva, "77": max(credits - debits, 0), "563": base}
    return codes | {"115": rate, "62": ppm, "151": withheld, "91": iva + ppm + withheld}


def _signed(row: dict, key: str) -> int:
    return -row[key] if row["detTipoDoc"] in CREDIT_NOTE_TYPES else row[key]


def _ppm_rate_bp(rut_body: int) -> int:
    return rng_for("ppm", rut_body).choice((25, 50, 100, 150))  # 0.25 %-1.5 % of sales


def f29_declarations(rut_body: int, period: str, today: date) -> list[dict]:
    """getDeclaracionConEstados rows: a Vigente F29 per month before today's, rarely a rejected one too."""
    year, month = split_period(period)
    if (year, month) >= (today.year, today.month):
        return []
    rng = rng_for("f29", rut_body, period)
    due = date(year + month // 12, month % 12 + 1, 1)
    filed = min(due + timedelta(days=rng.randint(8, 19)), today)
    monto = f29_codes(rut_body, period)["91"]
    rows = [_declaration(rng, 1, "Vigente", filed, monto)]
    if rng.random() < 0.15:
        earlier = max(filed - timedelta(days=rng.randint(1, 5)), due)
        rows.append(_declaration(rng, 70, "Rechazada por pago inconcluso", earlier, monto))
    return rows


def _declaration(rng: random.Random, estado_id: int, estado: str, filed: date, monto: int) -> dict:
    with_time = rng.random() < 0.3  # the SII sends both date formats
    stamp = f"{filed:%d/%m/%Y}" + (
        f" {rng.randint(9, 23):02d}:{rng.randint(0, 59):02d}:12" if with_time else ""
    )
    return {
        "estadoDeclaracionId": estado_id,
        "estado": estado,
        "folio": rng.randint(7_000_000_000, 8_999_999_999),
        "declFechaCreacion": stamp,
        "monto": monto,
        "enNegocio": False,
        "codigo": 29,
        "tingcodingreso": 1,
    }
