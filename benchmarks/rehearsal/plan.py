"""What a rehearsal runs: how many companies, the SII's pace and latency, the workers, the outage."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class NightPlan:
    companies: int
    rates: dict[str, float]  # requests a second per SII surface (the governor's caps)
    latency: float  # seconds per simulated SII request, give or take half
    workers: int  # worker processes
    concurrency: int  # pool processes each
    outage: float  # seconds of SII outage in the middle of the night (0: none)
    ondemand_every: float  # seconds between on-demand launches during the night

    def as_dict(self) -> dict:
        return asdict(self)


RATES = {"auth": 20.0, "rcv": 80.0, "bhe": 40.0}
FULL = NightPlan(
    companies=10_000, rates=RATES, latency=0.3, workers=2, concurrency=24, outage=300.0, ondemand_every=15.0
)
SMOKE = NightPlan(
    companies=40, rates={"auth": 40.0, "rcv": 80.0, "bhe": 40.0}, latency=0.02, workers=1, concurrency=4,
    outage=4.0, ondemand_every=1.0,
)  # fmt: skip
