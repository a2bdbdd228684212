"""Synthetic RCV purchase rows for the upsert benchmark."""

from datetime import date

from sii.rut import check_digit


def purchase_rows(count: int, *, bump: int = 0) -> list[dict]:
    rows = []
    for folio in range(1, count + 1):
        supplier = 76_000_000 + folio % 500
        neto = 10_000 + folio + bump
        iva = round(neto * 0.19)
        raw = {"detNroDoc": folio, "detRutDoc": supplier, "detMntNeto": neto, "detMntIVA": iva}
        rows.append(
            {
                "tipo_doc": 33, "folio": folio, "counterparty_rut": supplier,
                "counterparty_dv": check_digit(supplier), "counterparty_name": f"Proveedor {supplier}",
                "issued_on": date(2025, 1, 1 + folio % 28), "received_at": None, "acknowledged_at": None,
                "claimed_at": None, "monto_exento": 0, "monto_neto": neto, "monto_iva": iva,
                "monto_total": neto + iva, "monto_iva_no_recuperable": 0, "estado_contable": "REGISTRO",
                "period": "202501", "raw": raw,
            }
        )  # fmt: skip
    return rows
