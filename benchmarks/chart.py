"""var/bench/results.png: each row's ratio to its reference against its target, and growth curves."""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt

from benchmarks.report import summary

GOOD, BAD, INFO = "#2e7d32", "#c62828", "#9e9e9e"


def chart_draw(results: dict, path: Path) -> None:
    rows = [row for row in results["rows"] if row.get("reference")]
    growth = results["growth"]
    columns = min(3, max(1, len(growth)))
    growth_rows = math.ceil(len(growth) / columns)
    figure = plt.figure(
        figsize=(max(10, 6 * columns), 0.45 * len(rows) + 2.5 + 4 * growth_rows), layout="constrained"
    )
    grid = figure.add_gridspec(
        1 + growth_rows, columns, height_ratios=[0.45 * len(rows) + 1.5] + [4] * growth_rows
    )
    _ratios(figure.add_subplot(grid[0, :]), rows)
    for n, table in enumerate(growth):
        _growth(figure.add_subplot(grid[1 + n // columns, n % columns]), table)
    figure.suptitle(f"sii-tasks vs references ({results['machine'].get('client', '')} client)")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _ratios(axes, rows: list[dict]) -> None:
    """One bar per row (ours / reference, log scale), its target as a black tick."""
    names = [row["row"] for row in rows][::-1]
    figures = [summary(row) for row in rows][::-1]
    ratios = [figure["ratio"] for figure in figures]
    colours = [{True: GOOD, False: BAD, None: INFO}[figure["met"]] for figure in figures]
    axes.barh(names, ratios, color=colours)
    for y, row in enumerate(rows[::-1]):
        if row.get("target_ratio") is not None:
            axes.plot([row["target_ratio"]] * 2, [y - 0.4, y + 0.4], color="black", linewidth=2)
        axes.annotate(
            f"{ratios[y]:.2f}x", (ratios[y], y), xytext=(4, 0), textcoords="offset points", va="center"
        )
    axes.axvline(1.0, color="black", linestyle=":", linewidth=1)
    axes.set_xscale("log")
    axes.set_xlabel("ours / reference (median); black tick = target; green met, red not, grey info")
    axes.tick_params(axis="y", labelsize=8)


def _growth(axes, table: dict) -> None:
    xs = [point["x"] for point in table["points"]]
    axes.plot(xs, [point["ours"] for point in table["points"]], marker="o", label="ours")
    references = [point.get("reference") for point in table["points"]]
    if any(value is not None for value in references):
        axes.plot(xs, references, marker="s", label="reference")
    axes.set_xscale("log")
    axes.set_title(table["table"], fontsize=9)
    axes.set_xlabel(table["x_name"])
    axes.set_ylabel(table["unit"])
    highest = max(
        value for point in table["points"] for value in (point["ours"], point.get("reference") or 0)
    )
    axes.set_ylim(0, highest * 1.15 or 1)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
