"""A sync's result as the run page shows it: one row per surface and period, with its counts.

The shape is sii.services.documents / f29's: {"compras": {..., "periods": {"202611": {"total",
"created", "updated", "unchanged", ...}}}, ...}.
"""

from typing import Any

from tasks_api.console import number

COUNTS = ("total", "created", "updated", "unchanged")
HEADERS = ["surface", "period", *COUNTS]


def sync_result_tables(result: Any) -> list[dict]:
    """[{title, headers, rows}], or [] when `result` is not a sync's result."""
    rows = [row for surface, report in _surfaces(result) for row in _surface_rows(surface, report)]
    return [{"title": "Synced rows", "headers": HEADERS, "rows": rows}] if rows else []


def _surfaces(result: Any) -> list[tuple[str, dict]]:
    if not isinstance(result, dict):
        return []
    return [
        (name, report)
        for name, report in result.items()
        if isinstance(report, dict) and isinstance(report.get("periods"), dict)
    ]


def _surface_rows(surface: str, report: dict) -> list[list[str]]:
    periods = sorted(report["periods"].items())
    rows = [[surface, period, *_counts(counts)] for period, counts in periods]
    if len(periods) > 1:
        rows.append([surface, f"all {len(periods)} periods", *_counts(report)])
    return rows


def _counts(counts: dict) -> list[str]:
    return [number(counts[name]) if isinstance(counts.get(name), int) else "—" for name in COUNTS]
