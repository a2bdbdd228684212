"""Tax periods ("YYYYMM") in the SII's time zone."""

from datetime import date

from django.utils import timezone


def today() -> date:
    """Today in America/Santiago (settings.TIME_ZONE), the calendar the SII uses."""
    return timezone.localdate()


def current_year() -> str:
    return str(today().year)


def period_of(day: date) -> str:
    return f"{day.year}{day.month:02d}"


def shift_period(period: str, months: int) -> str:
    """The period `months` months after `period` (before it when negative)."""
    index = int(period[:4]) * 12 + int(period[4:]) - 1 + months
    return f"{index // 12}{index % 12 + 1:02d}"


def periods_ending(*, months: int, month_offset: int, on: date | None = None) -> list[str]:
    """`months` periods, oldest first, the last one `month_offset` months before the current."""
    last = shift_period(period_of(on or today()), -month_offset)
    return [shift_period(last, -back) for back in range(months - 1, -1, -1)]


def periods_of_year(*, year: str, on: date | None = None) -> list[str]:
    """The months of `year` that have begun by `on` (a future year has none)."""
    current = period_of(on or today())
    return [p for p in (f"{year}{month:02d}" for month in range(1, 13)) if p <= current]
