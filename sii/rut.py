"""Chilean RUT helpers: clean, parse, format and the módulo 11 check digit."""

import re
from dataclasses import dataclass

_CANONICAL = re.compile(r"^(\d{1,8})-([\dK])$")


class InvalidRut(ValueError):
    """The text is not a RUT, or its check digit is wrong."""


def check_digit(body: int) -> str:
    """The módulo 11 check digit of a RUT body: '0'-'9' or 'K'."""
    total, factor = 0, 2
    for digit in reversed(str(body)):
        total += int(digit) * factor
        factor = 2 if factor == 7 else factor + 1
    remainder = 11 - total % 11
    return {11: "0", 10: "K"}.get(remainder, str(remainder))


def clean(text: str) -> str:
    """Canonical form '12345678-5': trimmed, no dots, upper case, no leading zeros."""
    compact = text.strip().replace(".", "").replace(" ", "").upper()
    if "-" not in compact and len(compact) > 1:
        compact = f"{compact[:-1]}-{compact[-1]}"
    body, _, dv = compact.partition("-")
    return f"{body.lstrip('0') or '0'}-{dv}"


@dataclass(frozen=True)
class Rut:
    body: int
    dv: str

    def __str__(self) -> str:
        return f"{self.body}-{self.dv}"

    @property
    def formatted(self) -> str:
        """Display form with thousands dots: '12.345.678-5'."""
        return f"{self.body:,}".replace(",", ".") + f"-{self.dv}"


def parse(text: str) -> Rut:
    """Parse any common spelling of a RUT; raise InvalidRut if it is malformed or wrong."""
    canonical = clean(text)
    match = _CANONICAL.match(canonical)
    if not match or match.group(1) == "0":
        raise InvalidRut(f"{text!r} is not a RUT (expected something like 12.345.678-5).")
    body, dv = int(match.group(1)), match.group(2)
    if check_digit(body) != dv:
        raise InvalidRut(f"{text!r} has a wrong check digit (expected {check_digit(body)}).")
    return Rut(body=body, dv=dv)
