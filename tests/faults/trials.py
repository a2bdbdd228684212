"""Fault scenarios run as trials: how many times each runs, how long each took to recover, and
the table `make faults` prints (scenario, trials, held, recovery p50/max)."""

import os
import re
import statistics
from pathlib import Path

import pytest

# make faults runs every scenario this many times; make test, a scenario's `trials` marker (or once).
TRIALS_ENV = "FAULTS_TRIALS"
RECOVERY = "recovery_seconds"
TRIAL_ID = re.compile(r"trial\d+-|-?trial\d+")


def trials_of(definition: pytest.Function) -> int:
    if os.environ.get(TRIALS_ENV):
        return int(os.environ[TRIALS_ENV])
    marker = definition.get_closest_marker("trials")
    return int(marker.args[0]) if marker else 1


def parametrize_trials(metafunc: pytest.Metafunc) -> None:
    """Each scenario `trials_of` times, as `[trialN]` (the `trial` fixture holds N)."""
    count = trials_of(metafunc.definition)
    if count > 1 and "trial" not in metafunc.fixturenames:
        metafunc.fixturenames.append("trial")
        metafunc.parametrize("trial", range(1, count + 1), ids=[f"trial{n}" for n in range(1, count + 1)])


def scenario_of(nodeid: str) -> str:
    """The scenario a trial belongs to: its test's name, in words, with its parameters but the trial."""
    name = TRIAL_ID.sub("", nodeid.split("::", 1)[-1]).replace("[]", "")
    return name.removeprefix("test_").replace("_", " ")


def table(reports: list[pytest.TestReport]) -> str:
    """One markdown row per scenario: trials, how many held (every phase passed, the teardown's
    check that each run's row agrees with its result included), recovery time p50 and max."""
    trials: dict[str, list[pytest.TestReport]] = {}
    for report in reports:
        trials.setdefault(report.nodeid, []).append(report)
    by_scenario: dict[str, list[tuple[bool, list[float]]]] = {}
    for nodeid, phases in trials.items():
        held = all(not report.failed for report in phases) and any(r.when == "call" for r in phases)
        times = [value for key, value in phases[-1].user_properties if key == RECOVERY]
        by_scenario.setdefault(scenario_of(nodeid), []).append((held, times))
    rows = ["| scenario | trials | held | recovery p50 | recovery max |", "|---|---|---|---|---|"]
    for scenario, results in sorted(by_scenario.items()):
        times = [value for _, values in results for value in values]
        p50, most = (f"{statistics.median(times):.1f} s", f"{max(times):.1f} s") if times else ("-", "-")
        rows.append(f"| {scenario} | {len(results)} | {sum(held for held, _ in results)} | {p50} | {most} |")
    return "\n".join(rows)


def write_table(reports: list[pytest.TestReport], path: Path) -> str:
    text = table(reports)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return text
