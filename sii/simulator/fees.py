"""Generated BHE (boletas de honorarios) received and issued per (RUT, period), with Ley 21.133 withholding."""

import random
from datetime import date, timedelta
from functools import lru_cache

from sii.simulator.documents import month_number, split_period
from sii.simulator.names import Party, clients, company_name, freelancers, person, rng_for

# Ley 21.133: the BHE withholding rises every January (basis points of the gross amount).
_RETENTION_BP = {
    2020: 1075,
    2021: 1150,
    2022: 1225,
    2023: 1300,
    2024: 1375,
    2025: 1450,
    2026: 1525,
    2027: 1600,
}


def retention_rate_bp(year: int) -> int:
    """The BHE withholding rate of a year in basis points (1450 = 14.5 %)."""
    return 1000 if year < 2020 else _RETENTION_BP.get(year, 1700)


def retention(bruto: int, year: int) -> int:
    return (bruto * retention_rate_bp(year) + 5000) // 10000


@lru_cache(maxsize=8192)
def _fee_receipts(rut_body: int, period: str, count: int | None) -> tuple[dict, ...]:
    rng, pool = rng_for("bhe", rut_body, period), freelancers(rut_body)
    year, month = split_period(period)
    receptor = company_name(rut_body)
    # The count is always drawn, so a forced count keeps the month's usual boletas as its first ones.
    drawn = rng.randint(0, 25)
    rows = [
        _fee_receipt(rng, rng.choice(pool), year, month, index, receptor)
        for index in range(drawn if count is None else count)
    ]
    return tuple(sorted(rows, key=lambda row: (row["fecha_boleta"][:2], row["nroboleta"])))


def _fee_receipt(rng: random.Random, issuer: Party, year: int, month: int, index: int, receptor: str) -> dict:
    issued = date(year, month, rng.randint(1, 28))
    bruto = _bruto(rng, year)
    numero = _numero(issuer, month_number(year, month), index)
    anulada = rng.random() < 0.08
    barcode = f"{issuer.rut}{numero}" + "".join(rng.choices("0123456789ABCDEF", k=20))
    return {
        "nroboleta": str(numero), "rutemisor": str(issuer.rut), "dvemisor": issuer.dv,
        "nombre_emisor": issuer.name, "nombre_receptor": receptor,
        "fecha_boleta": issued.strftime("%d/%m/%Y"), "totalhonorarios": str(bruto),
        "retencion_receptor": str(retention(bruto, year)),
        "honorariosliquidos": str(bruto - retention(bruto, year)),
        "es_soc_profesional": "SI" if rng.random() < 0.05 else "NO",
        "cod_comuna": str(rng.choice((13101, 13114, 13123, 13110, 5101, 8101))),
        "estado": "S" if anulada else "N",
        "fechaanulacion": f"{issued + timedelta(days=rng.randint(1, 5)):%d/%m/%Y}" if anulada else " ",
        "codigobarras": barcode[:20],
    }  # fmt: skip


def _bruto(rng: random.Random, year: int) -> int:
    bruto = (
        rng.choice((80_000, 150_000, 250_000, 400_000, 650_000, 1_000_000, 1_300_000))
        + rng.randint(0, 99) * 500
    )
    if bruto * retention_rate_bp(year) % 10000 == 5000:
        bruto += 1  # no exact .5: retention = round(bruto x rate) then agrees with half-up
    return bruto


def _numero(issuer: Party, month: int, index: int) -> int:
    if index < 100:
        return (issuer.rut % 89 + 1) * 100_000 + month * 100 + index
    # Forced busy months: a range of their own, so folios never collide with another month's.
    return 90_000_000 + month * 10_000 + index


def fee_receipts(rut_body: int, period: str, count: int | None = None) -> list[dict]:
    """BHE received in the period (0-25, or `count` when forced), as the report's fields without
    index (amounts plain digits)."""
    return [dict(row) for row in _fee_receipts(rut_body, period, count)]


@lru_cache(maxsize=8192)
def _issued_fee_receipts(rut_body: int, period: str, count: int | None) -> tuple[dict, ...]:
    rng, pool = rng_for("bhe-issued", rut_body, period), _receptors(rut_body)
    year, month = split_period(period)
    # Most companies issue few boletas; the count is always drawn, as for the received ones.
    drawn = rng.choice((0, 0, 1, 2, 3, 5, 8))
    rows = [
        _issued_fee_receipt(rng, rut_body, rng.choice(pool), year, month, index)
        for index in range(drawn if count is None else count)
    ]
    return tuple(sorted(rows, key=lambda row: (row["fecha_boleta"][:2], row["nroboleta"])))


def _receptors(rut_body: int) -> tuple[Party, ...]:
    # Companies withhold as receptors; a person does not, so the issuer withholds itself.
    rng = rng_for("bhe-receptors", rut_body)
    return clients(rut_body) + tuple(person(rng) for _ in range(3))


def _issued_fee_receipt(
    rng: random.Random, rut_body: int, receptor: Party, year: int, month: int, index: int
) -> dict:
    issued, bruto = date(year, month, rng.randint(1, 28)), _bruto(rng, year)
    withheld = retention(bruto, year)
    by_issuer = receptor.rut < 50_000_000  # a person's RUT: no withholding agent
    # The company's own sequence: one range per month, so folios never repeat across months.
    numero = month_number(year, month) * 10_000 + index + 1
    anulada = rng.random() < 0.08
    barcode = f"{rut_body}{numero}" + "".join(rng.choices("0123456789ABCDEF", k=20))
    return {
        "nroboleta": str(numero), "usuemisor": str(rut_body), "fechaemision": issued.strftime("%d/%m/%Y"),
        "rutreceptor": str(receptor.rut), "dvreceptor": receptor.dv, "nombrereceptor": receptor.name,
        "fecha_boleta": issued.strftime("%d/%m/%Y"), "totalhonorarios": str(bruto),
        "es_soc_profesional": "NO", "email_envio": f"contacto{receptor.rut % 1000}@example.cl",
        "retencion_emisor": str(withheld if by_issuer else 0),
        "retencion_receptor": str(0 if by_issuer else withheld),
        "honorariosliquidos": str(bruto - withheld), "estado": "S" if anulada else "N",
        "fechaanulacion": f"{issued + timedelta(days=rng.randint(1, 5)):%d/%m/%Y}" if anulada else " ",
        "codigobarras": barcode[:20],
    }  # fmt: skip


def issued_fee_receipts(rut_body: int, period: str, count: int | None = None) -> list[dict]:
    """BHE the company itself issued in the period (0-8, or `count` when forced), as the issued
    report's fields without index (amounts plain digits)."""
    return [dict(row) for row in _issued_fee_receipts(rut_body, period, count)]
