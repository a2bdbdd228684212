"""Governors over either store: Redis (a deployment) and files (the embedded default)."""

import pytest
import redis
from django.conf import settings

from sii.governor.gate import GovernorConfig, SiiGovernor, Wait
from sii.governor.rules import BreakerRule, Pace
from sii.governor.stores import FileStore, RedisStore, Store

RULE = BreakerRule(threshold=3, backoff=2.0, max_backoff=8.0, probe_timeout=35.0)
CONFIG = GovernorConfig(
    paces=dict.fromkeys(("auth", "rcv", "bhe"), Pace(rate=10)), breaker=RULE, max_pause=5.0
)


@pytest.fixture(params=["redis", "file"])
def store(request, tmp_path) -> Store:
    if request.param == "file":
        return FileStore(folder=tmp_path / "governor")
    prefix = f"test:governor:{request.node.originalname}:"  # no brackets: SCAN's pattern would read them
    client = redis.Redis.from_url(settings.SII_GOVERNOR_REDIS_URL)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    return RedisStore(url=settings.SII_GOVERNOR_REDIS_URL, timeout=1.0, prefix=prefix)


class Recorder:
    """A governor's sleeps and reported waits, with no real sleeping."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.told: list[Wait | None] = []

    def governor(self, store: Store, config: GovernorConfig = CONFIG) -> SiiGovernor:
        return SiiGovernor(store=store, config=config, on_wait=self.told.append, sleep=self.slept.append)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
