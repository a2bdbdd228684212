"""The governor every SII client asks before a request and tells after it, on Redis and on files."""

import itertools
import multiprocessing
import time
from functools import partial
from pathlib import Path

import pytest
import redis
from django.conf import settings

from sii.client.errors import SiiPaused
from sii.governor.gate import GovernorConfig, SiiGovernor
from sii.governor.rules import BreakerRule, Pace, slot_take
from sii.governor.stores import FileStore, RedisStore, Store
from tests.sii.governor.conftest import CONFIG, RULE


def _open(governor: SiiGovernor, surface: str = "rcv") -> None:
    for _ in range(RULE.threshold):
        governor.before(surface=surface)
        governor.after(surface=surface, available=False, probe=False)


def test_requests_of_two_clients_share_one_pace(store, recorder):
    first, second = recorder.governor(store), recorder.governor(store)
    for governor in (first, second, first, second):
        governor.before(surface="rcv")
    # At 10 a second, each request after the first waits about 0.1 s more than the one before
    # (less the time the test itself took between them).
    assert len(recorder.slept) == 3
    assert recorder.slept == sorted(recorder.slept)
    assert recorder.slept[-1] == pytest.approx(0.3, abs=0.05)


def test_each_surface_has_its_own_pace(store, recorder):
    governor = recorder.governor(store)
    for surface in ("auth", "rcv", "bhe"):
        governor.before(surface=surface)
    assert recorder.slept == []


def test_a_long_wait_for_the_pace_is_reported_and_then_cleared(store, recorder):
    slow = GovernorConfig(paces={"auth": Pace(rate=0.2)}, breaker=RULE, max_pause=5.0)
    governor = recorder.governor(store, slow)
    governor.before(surface="auth")
    governor.before(surface="auth")
    told = recorder.told[0]
    assert (told.kind, told.surface, round(told.seconds)) == ("pace", "auth", 5)
    assert recorder.told[1:] == [None]


def test_the_threshold_of_unavailable_answers_pauses_the_surface_for_every_client(store, recorder):
    first, second = recorder.governor(store), recorder.governor(store)
    assert first.after(surface="rcv", available=False, probe=False) is False
    assert second.after(surface="rcv", available=False, probe=False) is False
    assert first.after(surface="rcv", available=False, probe=False) is True
    assert second.after(surface="rcv", available=False, probe=False) is True  # sent before it opened
    assert second.after(surface="bhe", available=False, probe=False) is False


def test_a_paused_client_waits_in_place_then_gives_up_saying_since_when(store, recorder):
    governor = recorder.governor(store)
    _open(governor)
    with pytest.raises(SiiPaused, match=r"the SII \(rcv\) has been unavailable since") as raised:
        recorder.governor(store).before(surface="rcv")
    assert raised.value.until - raised.value.since == pytest.approx(RULE.backoff)
    assert sum(recorder.slept) >= CONFIG.max_pause
    assert recorder.told[0].kind == "paused"
    assert recorder.told[-1] is None


def test_after_the_backoff_one_client_probes_and_the_others_keep_waiting(store, recorder):
    quick = GovernorConfig(
        paces=CONFIG.paces,
        breaker=BreakerRule(threshold=1, backoff=1.0, max_backoff=1.0, probe_timeout=60.0),
        max_pause=0.5,
    )
    assert recorder.governor(store, quick).after(surface="bhe", available=False, probe=False) is True
    probe = False
    for _ in range(100):  # the backoff is a second of the store's clock: ask until the probe's turn
        try:
            probe = recorder.governor(store, quick).before(surface="bhe")
            break
        except SiiPaused:
            time.sleep(0.05)
    assert probe is True
    with pytest.raises(SiiPaused):
        recorder.governor(store, quick).before(surface="bhe")
    assert recorder.governor(store, quick).after(surface="bhe", available=True, probe=True) is False
    assert recorder.governor(store, quick).before(surface="bhe") is False


def _send_time(state: dict, now: float) -> tuple[dict, float]:
    new, wait = slot_take(state, now, Pace(rate=50))
    return new, now + wait


def _reserve_slots(store_kind: str, where: str, count: int) -> list[float]:
    """In another process: reserve `count` slots of a 50/s pace, giving when each may go."""
    if store_kind == "file":
        store: Store = FileStore(folder=Path(where))
    else:
        store = RedisStore(url=where, timeout=1.0, prefix="test:governor:processes:")
    return [store.change("pace:rcv", _send_time) for _ in range(count)]


@pytest.mark.parametrize("store_kind", ["redis", "file"])
def test_processes_sharing_a_store_never_get_two_slots_closer_than_the_rate(store_kind, tmp_path):
    where = str(tmp_path) if store_kind == "file" else settings.SII_GOVERNOR_REDIS_URL
    if store_kind == "redis":
        redis.Redis.from_url(where).delete("test:governor:processes:pace:rcv")
    # Spawned, not forked: a fork of the test process (its threads, their locks) may hang.
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        batches = pool.map(partial(_reserve_slots, store_kind, where), [25] * 4)
    sends = sorted(send for batch in batches for send in batch)
    gaps = [later - earlier for earlier, later in itertools.pairwise(sends)]
    assert len(sends) == 100
    assert min(gaps) >= 1 / 50 - 1e-6


def test_a_request_that_queued_for_the_pace_does_not_go_once_the_surface_paused_meanwhile(store, recorder):
    slow = GovernorConfig(paces={"rcv": Pace(rate=1)}, breaker=RULE, max_pause=3.0)
    recorder.governor(store, slow).before(surface="rcv")  # the pace's next slot is a second away
    opener = recorder.governor(store, slow)

    def sleep(seconds: float) -> None:
        recorder.slept.append(seconds)
        if len(recorder.slept) == 1:  # while waiting for its slot, the SII stops answering
            for _ in range(RULE.threshold):
                opener.after(surface="rcv", available=False, probe=False)

    queued = SiiGovernor(store=store, config=slow, on_wait=recorder.told.append, sleep=sleep)
    with pytest.raises(SiiPaused):
        queued.before(surface="rcv")
    assert recorder.told[0].kind == "paused"
