"""Generated RCV documents per (RUT, period): purchases, sales, boleta summaries and their resumen."""

import math
import random
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from sii.simulator.names import Party, clients, foreign, rng_for, suppliers

NOMBRES_TIPO = {
    33: "Factura Electrónica",
    34: "Factura No Afecta o Exenta Electrónica",
    39: "Total Oper. del mes Boleta Electr.",
    41: "Total Oper. del mes Boleta Exenta Electr.",
    46: "Factura de Compra Electrónica",
    56: "Nota de Débito Electrónica",
    61: "Nota de Crédito Electrónica",
    110: "Factura de Exportación Electrónica",
}
EXEMPT_TYPES = frozenset({34, 41, 110})
CREDIT_NOTE_TYPES = frozenset({61, 112})  # they lower débitos/créditos in the F29
_PURCHASE_TYPES = ((33, 70), (34, 8), (61, 10), (56, 4), (46, 8))
_SALE_TYPES = ((33, 72), (34, 10), (61, 12), (110, 6))
_ESTADOS = (("REGISTRO", 76), ("PENDIENTE", 14), ("RECLAMADO", 4), ("NO_INCLUIR", 6))
_EVENTS = {"ACD": "Acepta Contenido del Documento", "RCD": "Reclamo al Contenido del Documento"}
_T = TypeVar("_T")


def split_period(period: str) -> tuple[int, int]:
    year, month = int(period[:4]), int(period[4:6])
    if len(period) != 6 or not 1 <= month <= 12:
        raise ValueError(f"period must be 'YYYYMM', got {period!r}")
    return year, month


def vat(neto: int) -> int:
    """IVA = round(neto x 0.19), half up as the SII rounds."""
    return (neto * 19 + 50) // 100


def month_number(year: int, month: int) -> int:
    return (year - 2000) * 12 + month


def _weighted(rng: random.Random, choices: tuple[tuple[_T, int], ...]) -> _T:
    return rng.choices([c[0] for c in choices], weights=[c[1] for c in choices])[0]


def _amount(rng: random.Random, low: int = 15_000, high: int = 4_000_000) -> int:
    value = int(math.exp(rng.uniform(math.log(low), math.log(high))))
    # neto ≡ 50 (mod 100) is the only case where 19 % lands on .5; avoid it so round() agrees.
    return value + 1 if value % 100 == 50 else value


def _amounts(rng: random.Random, tipo: int) -> dict:
    if tipo in EXEMPT_TYPES:
        exe, neto = _amount(rng), 0
    else:
        exe, neto = (_amount(rng, 1_000, 200_000) if rng.random() < 0.08 else 0), _amount(rng)
    iva = vat(neto)
    return {"detMntExe": exe, "detMntNeto": neto, "detMntIVA": iva, "detMntTotal": neto + iva + exe}


def _stamp(moment: datetime) -> str:
    # Hand-formatted: strftime dominated the generation time of 1,000 companies.
    m = moment
    return f"{m.day:02d}/{m.month:02d}/{m.year} {m.hour:02d}:{m.minute:02d}:{m.second:02d}"


def _unstamp(text: str) -> datetime:
    day, month, year, hour, minute, second = (int(text[i : i + n]) for i, n in _STAMP_FIELDS)
    return datetime(year, month, day, hour, minute, second)


_STAMP_FIELDS = ((0, 2), (3, 2), (6, 4), (11, 2), (14, 2), (17, 2))
# The det* columns that stay fixed here: fixed assets, tobacco, references and events vary elsewhere.
_FIXED_COLUMNS = {
    "detFecAcuse": None, "detFecReclamado": None, "detMntIVANoRec": 0, "detMntCodNoRec": None,
    "detIVAUsoComun": 0, "detMntActFijo": 0, "detMntIVAActFijo": 0, "detMntSinCredito": 0,
    "detTasaImp": 19, "detAnulado": False, "detTpoImp": 1, "detTipoTransaccion": 1,
    "descTipoTransaccion": "Del Giro", "detEventoReceptor": None, "detEventoReceptorLeyenda": None,
}  # fmt: skip


def _document(rng: random.Random, period: str, index: int, tipo: int, party: Party) -> dict:
    """The det* keys both sides share."""
    year, month = split_period(period)
    day = rng.randint(1, 27)
    # Draw order is part of the data: day, the day's shift, then hour, minute, second.
    shift = rng.randint(0, 1)
    hour, minute, second = (rng.randint(*r) for r in _CLOCK)
    received = datetime(year, month, day + shift, hour, minute, second)
    is_note = tipo in (56, 61)
    return {
        "dhdrCodigo": rng.randint(10**9, 10**10), "dcvCodigo": rng.randint(10**8, 10**9),
        "detCodigo": rng.randint(10**9, 10**10), "detTipoDoc": tipo, "detRutDoc": party.rut,
        "detDvDoc": party.dv, "detRznSoc": party.name, "detNroDoc": _folio(party, year, month, index),
        "detFchDoc": f"{day:02d}/{month:02d}/{year}", "detFecRecepcion": _stamp(received),
        **_amounts(rng, tipo), **_FIXED_COLUMNS,
        "detTipoDocRef": 33 if is_note else 0, "detFolioDocRef": rng.randint(1, 99_999) if is_note else 0,
    }  # fmt: skip


_CLOCK = ((8, 22), (0, 59), (0, 59))


def _folio(party: Party, year: int, month: int, index: int) -> int:
    # Unique per (counterparty, type) across periods, so repeated syncs and months never collide.
    return (party.rut % 997 + 1) * 1_000_000 + month_number(year, month) * 1000 + index + 1


def _receiver_events(rng: random.Random, row: dict, estado: str) -> dict:
    received = _unstamp(row["detFecRecepcion"])
    later = _stamp(received + timedelta(days=rng.randint(1, 7), hours=rng.randint(0, 9)))
    if estado == "RECLAMADO":
        return row | {
            "detFecReclamado": later,
            "detEventoReceptor": "RCD",
            "detEventoReceptorLeyenda": _EVENTS["RCD"],
        }
    if estado in ("REGISTRO", "NO_INCLUIR") and rng.random() < 0.6:
        return row | {
            "detFecAcuse": later,
            "detEventoReceptor": "ACD",
            "detEventoReceptorLeyenda": _EVENTS["ACD"],
        }
    return row


@lru_cache(maxsize=8192)
def _purchases(rut_body: int, period: str) -> tuple[dict, ...]:
    rng, pool = rng_for("compras", rut_body, period), suppliers(rut_body)
    rows = []
    for index in range(rng.randint(5, 40)):
        tipo, estado = _weighted(rng, _PURCHASE_TYPES), _weighted(rng, _ESTADOS)
        row = _document(rng, period, index, tipo, rng.choice(pool))
        rows.append(_receiver_events(rng, row, estado) | {"dcvEstadoContab": estado})
    return tuple(rows)


@lru_cache(maxsize=8192)
def _sales(rut_body: int, period: str) -> tuple[dict, ...]:
    rng, pool = rng_for("ventas", rut_body, period), clients(rut_body)
    rows = []
    for index in range(rng.randint(5, 60)):
        tipo = _weighted(rng, _SALE_TYPES)
        party = foreign(rng) if tipo == 110 else rng.choice(pool)
        row = _document(rng, period, index, tipo, party) | _SALE_EXTRAS
        if tipo == 110:
            row |= {"detExpNumId": str(rng.randint(10**7, 10**9)), "detExpNacionalidad": 225}
        rows.append(row | {"dcvEstadoContab": None})
    return tuple(rows)


_SALE_EXTRAS = {
    "detIVARetTotal": 0, "detIVARetParcial": 0, "detIVANoRetenido": 0, "detIVAPropio": 0,
    "detIVATerceros": 0, "detLiqRutEmisor": 0, "detLiqValComNeto": 0, "detLiqValComExe": 0,
    "detLiqValComIVA": 0, "detIVAFueraPlazo": 0, "detExpNumId": None, "detExpNacionalidad": None,
    "detIndServicio": 0, "detMntNoFact": 0, "detMntPeriodo": 0, "detCdgSIISucur": 0,
}  # fmt: skip


def purchases(rut_body: int, period: str) -> list[dict]:
    """Every purchase of the period, all estados (dcvEstadoContab tells which), as the SII's det* rows."""
    return [dict(row) for row in _purchases(rut_body, period)]


def sales(rut_body: int, period: str) -> list[dict]:
    """Every sale with per-document detail (33/34/61/110), as the SII's det* rows."""
    return [dict(row) for row in _sales(rut_body, period)]


def sales_summaries(rut_body: int, period: str) -> list[dict]:
    """The summary-only VENTA resumen rows (boletas 39, 41): monthly totals, no detail."""
    rng = rng_for("boletas", rut_body, period)
    rows = []
    for tipo, chance in ((39, 0.7), (41, 0.3)):
        if rng.random() < chance:
            count, ticket = rng.randint(20, 2500), rng.randint(2_000, 40_000)
            amount = count * ticket + (1 if count * ticket % 100 == 50 else 0)
            exe, neto = (amount, 0) if tipo in EXEMPT_TYPES else (0, amount)
            rows.append(_summary_row(tipo, count, exe, neto, ingreso="RESUMEN"))
    return rows


def _summary_row(tipo: int, count: int, exe: int, neto: int, *, ingreso: str | None) -> dict:
    iva = vat(neto)
    row = {"rsmnTipoDocInteger": tipo, "dcvNombreTipoDoc": NOMBRES_TIPO.get(tipo, f"Tipo {tipo}")}
    row |= {"rsmnTotDoc": count, "rsmnMntExe": exe, "rsmnMntNeto": neto, "rsmnMntIVA": iva}
    row |= {"rsmnMntIVANoRec": 0, "rsmnIVAUsoComun": 0, "rsmnMntTotal": exe + neto + iva}
    row |= {"rsmnLink": ingreso != "RESUMEN", "rsmnCodigo": tipo * 1000 + count % 1000}
    return row if ingreso is None else row | {"dcvTipoIngresoDoc": ingreso}


def resumen(rut_body: int, period: str, operacion: str, estado: str = "REGISTRO") -> list[dict]:
    """getResumen rows: detail rows summed per type; VENTA also lists the summary-only types."""
    if operacion == "COMPRA":
        rows = [r for r in _purchases(rut_body, period) if r["dcvEstadoContab"] == estado]
    else:
        rows = list(_sales(rut_body, period))
    ingreso = "DET_ELE" if operacion == "VENTA" else None
    by_type: dict[int, list[dict]] = {}
    for row in rows:
        by_type.setdefault(row["detTipoDoc"], []).append(row)
    summary = [_type_totals(tipo, docs, ingreso) for tipo, docs in sorted(by_type.items())]
    return summary + (sales_summaries(rut_body, period) if operacion == "VENTA" else [])


def _type_totals(tipo: int, docs: list[dict], ingreso: str | None) -> dict:
    row = _summary_row(tipo, len(docs), 0, 0, ingreso=ingreso)
    for ours, theirs in (("Exe", "Exe"), ("Neto", "Neto"), ("IVA", "IVA"), ("Total", "Total")):
        row[f"rsmnMnt{ours}"] = sum(doc[f"detMnt{theirs}"] for doc in docs)
    return row
