"""Rows of the benchmark: what each measures and its target, and the figures each round adds.

A row renders in the shared row format (the module docstring of benchmarks.report): its values
per round for this API ("ours") and for the reference (Flower, or a bare Celery task).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowSpec:
    key: str
    row: str
    unit: str
    higher_is_better: bool = False
    target: str = ""
    target_ratio: float | None = None
    # An absolute bound on ours' median (same unit), instead of or beside the ratio.
    target_value: float | None = None
    reference_name: str = "Flower 2.2.0"


def _ratio_target(ratio: float, higher: bool) -> str:
    return f"ours {'>=' if higher else '<='} {ratio:g} x reference"


def spec(
    key: str, row: str, unit: str, *, higher: bool = False, ratio: float | None = None, **more
) -> RowSpec:
    target = _ratio_target(ratio, higher) if ratio is not None else more.pop("target", "")
    return RowSpec(key, row, unit, higher, target, ratio, **more)


@dataclass
class Figures:
    """Per-round values of every row, in the order the rows were declared."""

    specs: list[RowSpec]
    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, side: str, measured: dict[str, float]) -> None:
        """Append one round's values for `side` ("ours" or "reference")."""
        for key, value in measured.items():
            self.values.setdefault(key, {"ours": [], "reference": []})[side].append(value)

    def rows(self) -> list[dict]:
        return [self._row(spec) for spec in self.specs if spec.key in self.values]

    def _row(self, spec: RowSpec) -> dict:
        values = self.values[spec.key]
        row = {
            "row": spec.row,
            "unit": spec.unit,
            "higher_is_better": spec.higher_is_better,
            "ours": values["ours"],
            "reference": values["reference"] or None,
            "reference_name": spec.reference_name,
            "target": spec.target,
            "target_ratio": spec.target_ratio,
        }
        return row | ({"target_value": spec.target_value} if spec.target_value is not None else {})
