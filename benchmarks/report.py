"""The benchmark's outputs: one printed table of every row, its growth tables, JSON and a PNG chart.

Rows come in the shared format every benchmark module returns from `measure(*, smoke)`:
  {"row", "unit", "higher_is_better", "ours": [per round], "reference": [per round] or None,
   "reference_name", "target", "target_ratio"} and optionally "target_value" (an absolute bound on
ours' median, same unit). The ratio is ours / reference of the medians; a target ratio is met
when the ratio is <= it (lower is better) or >= it (higher is better).
"""

import json
import statistics
from pathlib import Path

HEADER = ("row", "ours (median)", "reference (median)", "ratio", "target", "met?", "spread across rounds")


def summary(row: dict) -> dict:
    """Medians, ratio and whether the row meets its target (None: no target, an info row)."""
    ours = statistics.median(row["ours"])
    reference = statistics.median(row["reference"]) if row.get("reference") else None
    ratio = ours / reference if reference else None
    return {"ours": ours, "reference": reference, "ratio": ratio, "met": _met(row, ours, ratio)}


def _met(row: dict, ours: float, ratio: float | None) -> bool | None:
    checks = []
    if row.get("target_ratio") is not None and ratio is not None:
        higher = row["higher_is_better"]
        checks.append(ratio >= row["target_ratio"] if higher else ratio <= row["target_ratio"])
    if row.get("target_value") is not None:
        checks.append(ours >= row["target_value"] if row["higher_is_better"] else ours <= row["target_value"])
    return all(checks) if checks else None


def table_lines(rows: list[dict]) -> list[str]:
    """The table, with a line naming the reference above each run of rows that share it."""
    cells = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]

    def line(cells_of_line: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(cells_of_line, widths, strict=True)
        ).rstrip()

    lines, reference = [line(HEADER), "  ".join("-" * width for width in widths)], None
    for row, row_cells in zip(rows, cells[1:], strict=True):
        if row.get("reference_name", "") != reference:
            reference = row.get("reference_name", "")
            lines.append(f"-- reference: {reference or 'none'}")
        lines.append(line(row_cells))
    return lines


def _cells(row: dict) -> tuple[str, ...]:
    figures = summary(row)
    return (
        row["row"],
        _value(figures["ours"], row["unit"]),
        _value(figures["reference"], row["unit"]),
        f"{figures['ratio']:.2f}x" if figures["ratio"] is not None else "-",
        row.get("target") or "info",
        {True: "yes", False: "NO", None: "-"}[figures["met"]],
        _spread(row),
    )


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}"


def _spread(row: dict) -> str:
    def span(values: list[float]) -> str:
        return f"{_value(min(values), '')}-{_value(max(values), '')}".replace(" ", "")

    text = f"ours {span(row['ours'])}"
    return text + (f"; ref {span(row['reference'])}" if row.get("reference") else "")


def growth_lines(table: dict) -> list[str]:
    lines = [
        f"{table['table']} ({table['unit']})",
        f"  {table['x_name']:>14}  {'ours':>12}  {'reference':>12}",
    ]
    for point in table["points"]:
        reference = point.get("reference")
        lines.append(
            f"  {point['x']:>14,}  {_value(point['ours'], ''):>12}  "
            f"{_value(reference, '') if reference is not None else '-':>12}"
        )
    return lines


def report_print(results: dict) -> None:
    print("\n".join(["", *table_lines(results["rows"]), ""]))
    for table in results["growth"]:
        print("\n".join([*growth_lines(table), ""]))


def report_write(results: dict, folder: Path) -> tuple[Path, Path]:
    """var/bench/results.json (everything measured) and results.png; their paths."""
    from benchmarks.chart import chart_draw

    folder.mkdir(parents=True, exist_ok=True)
    summaries = [{"row": row["row"], **summary(row)} for row in results["rows"]]
    json_path = folder / "results.json"
    json_path.write_text(json.dumps({**results, "summary": summaries}, indent=2, default=str))
    png_path = folder / "results.png"
    chart_draw(results, png_path)
    return json_path, png_path
