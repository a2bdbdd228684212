"""How much the benchmark does: the full run of `make bench`, or the smoke run of the test suite."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    rounds: int
    # Seconds of each load phase (launch, status, health).
    phase_seconds: float
    # Stats requests per side and round, one every stats_every seconds.
    stats_samples: int
    stats_every: float
    # Launches watched until their finished state is visible, per side and round.
    visible_runs: int
    # Tasks per side and round of the worker-CPU row.
    worker_tasks: int
    # Launch records in the table for the status growth curve.
    growth_sizes: tuple[int, ...]
    smoke: bool


FULL = Plan(
    rounds=3, phase_seconds=5, stats_samples=3, stats_every=5.0, visible_runs=50, worker_tasks=300,
    growth_sizes=(10_000, 100_000, 1_000_000), smoke=False,
)  # fmt: skip
SMOKE = Plan(
    rounds=1, phase_seconds=1, stats_samples=1, stats_every=0.0, visible_runs=5, worker_tasks=20,
    growth_sizes=(1_000, 10_000), smoke=True,
)  # fmt: skip
