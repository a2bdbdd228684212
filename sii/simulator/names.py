"""Realistic-looking Chilean names and RUTs for generated counterparties, stable per company."""

import hashlib
import random
from functools import lru_cache
from typing import NamedTuple

from sii.rut import check_digit

_KINDS = (
    "COMERCIAL", "DISTRIBUIDORA", "SERVICIOS", "INVERSIONES", "CONSTRUCTORA", "TRANSPORTES",
    "IMPORTADORA", "AGRICOLA", "INGENIERIA", "LOGISTICA", "FERRETERIA", "ALIMENTOS",
)  # fmt: skip
_PLACES = (
    "ANDES", "PACIFICO", "AUSTRAL", "LOS AROMOS", "CORDILLERA", "DEL SUR", "ATACAMA", "BIO BIO",
    "MAIPO", "ACONCAGUA", "LOS LAGOS", "PATAGONIA", "VALLE CENTRAL", "LITORAL", "ALTIPLANO", "ELQUI",
)  # fmt: skip
_LEGAL = ("SPA", "LIMITADA", "S.A.", "LTDA.", "EIRL")
_FIRST = (
    "JUAN", "MARIA", "JOSE", "CAROLINA", "FRANCISCO", "CONSTANZA", "DIEGO", "VALENTINA",
    "MATIAS", "CAMILA", "FELIPE", "JAVIERA", "IGNACIO", "FERNANDA", "CRISTIAN", "PAULA",
)  # fmt: skip
_LAST = (
    "GONZALEZ", "MUÑOZ", "ROJAS", "DÍAZ", "PEREZ", "SOTO", "CONTRERAS", "SILVA", "MARTINEZ",
    "SEPULVEDA", "MORALES", "RODRIGUEZ", "LOPEZ", "FUENTES", "HERNANDEZ", "TORRES", "ARAYA",
)  # fmt: skip
_FOREIGN = ("GLOBAL IMPORTS LLC", "PACIFIC TRADING CO", "ANDEAN FOODS INC", "NORDIC SUPPLY AB")
FOREIGN_RUT = 55555555  # the RUT the SII uses for foreign receivers (exports)


class Party(NamedTuple):
    rut: int
    dv: str
    name: str


def rng_for(*parts: object) -> random.Random:
    """A random.Random started from a stable hash of the parts (not hash(), which changes per process)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def company(rng: random.Random) -> Party:
    body = rng.choice((rng.randint(76_000_000, 77_999_999), rng.randint(96_500_000, 99_599_999)))
    name = f"{rng.choice(_KINDS)} {rng.choice(_PLACES)} {rng.choice(_LEGAL)}"
    # The SII's own data carries stray spaces in razón social (cordada fixtures).
    return Party(body, check_digit(body), name + (" " if rng.random() < 0.1 else ""))


def person(rng: random.Random) -> Party:
    body = rng.randint(6_000_000, 24_999_999)
    first, last1, last2 = rng.choice(_FIRST), rng.choice(_LAST), rng.choice(_LAST)
    # Some issue as a small firm: an '&' in the name, which the BHE page sends as &amp; (§9).
    name = f"{last1} {last2} & CIA" if body % 9 == 0 else f"{first} {last1} {last2}"
    return Party(body, check_digit(body), name)


def foreign(rng: random.Random) -> Party:
    return Party(FOREIGN_RUT, check_digit(FOREIGN_RUT), rng.choice(_FOREIGN))


@lru_cache(maxsize=4096)
def suppliers(rut_body: int) -> tuple[Party, ...]:
    rng = rng_for("suppliers", rut_body)
    return tuple(company(rng) for _ in range(rng.randint(6, 18)))


@lru_cache(maxsize=4096)
def clients(rut_body: int) -> tuple[Party, ...]:
    rng = rng_for("clients", rut_body)
    return tuple(company(rng) for _ in range(rng.randint(5, 25)))


@lru_cache(maxsize=4096)
def freelancers(rut_body: int) -> tuple[Party, ...]:
    rng = rng_for("freelancers", rut_body)
    return tuple(person(rng) for _ in range(rng.randint(4, 15)))


def company_name(rut_body: int) -> str:
    """The simulated company's own razón social (the BHE report shows it as the receptor)."""
    return company(rng_for("self", rut_body)).name.strip()
