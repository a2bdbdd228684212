"""The governor's pace and breaker rules, as pure functions of a state and the time."""

import pytest

from sii.governor.rules import BreakerRule, Pace, breaker_admit, breaker_record, slot_take

RULE = BreakerRule(threshold=3, backoff=2.0, max_backoff=8.0, probe_timeout=35.0)


def _slots(pace: Pace, times: list[float]) -> list[float]:
    """When each request at `times` may go (time + its wait)."""
    state: dict = {}
    sends = []
    for now in times:
        state, wait = slot_take(state, now, pace)
        sends.append(now + wait)
    return sends


def test_requests_asking_at_once_are_spaced_by_the_rate():
    assert _slots(Pace(rate=4), [100.0] * 5) == [100.0, 100.25, 100.5, 100.75, 101.0]


def test_a_burst_goes_at_once_after_a_quiet_spell_then_the_rate_holds():
    sends = _slots(Pace(rate=2, burst=3), [10.0] * 5)
    assert sends == [10.0, 10.0, 10.0, 10.5, 11.0]


def test_a_request_after_a_quiet_spell_does_not_wait():
    assert _slots(Pace(rate=1), [0.0, 50.0]) == [0.0, 50.0]


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_a_pace_without_a_positive_rate_or_burst_is_refused(rate, burst):
    with pytest.raises(ValueError, match="rate above 0"):
        Pace(rate=rate, burst=burst)


def _failed(state: dict, now: float, *, probe: bool = False) -> dict:
    changed = breaker_record(state, now, RULE, available=False, probe=probe)
    return state if changed is None else changed


def test_the_breaker_opens_after_the_threshold_of_unavailable_answers_in_a_row():
    state: dict = {}
    for now in (1.0, 2.0):
        state = _failed(state, now)
        assert breaker_admit(state, now, RULE)[1].kind == "go"
    state = _failed(state, 3.0)
    assert breaker_admit(state, 3.5, RULE)[1] == ("paused", 3.0, 5.0)


def test_an_answer_in_between_starts_the_count_again():
    state = _failed(_failed({}, 1.0), 2.0)
    state = breaker_record(state, 3.0, RULE, available=True, probe=False)
    assert _failed(_failed(state, 4.0), 5.0) == {"failures": 2}


def test_once_the_backoff_passed_one_request_is_the_probe_and_the_others_wait_for_it():
    state = _failed(_failed(_failed({}, 0.0), 0.0), 0.0)
    probing, verdict = breaker_admit(state, 2.0, RULE)
    assert verdict.kind == "probe"
    assert breaker_admit(probing, 2.1, RULE)[1] == ("paused", 0.0, 37.0)


def test_each_failed_probe_doubles_the_backoff_up_to_its_maximum():
    state = _failed(_failed(_failed({}, 0.0), 0.0), 0.0)
    retry_ats = []
    for now in (2.0, 6.0, 14.0, 22.0):
        state, verdict = breaker_admit(state, now, RULE)
        assert verdict.kind == "probe"
        state = _failed(state, now, probe=True)
        retry_ats.append(state["retry_at"])
    assert retry_ats == [6.0, 14.0, 22.0, 30.0]


def test_a_failure_of_a_request_sent_before_the_breaker_opened_changes_nothing():
    state = _failed(_failed(_failed({}, 0.0), 0.0), 0.0)
    assert breaker_record(state, 1.0, RULE, available=False, probe=False) is None


def test_any_answer_closes_the_breaker():
    state = _failed(_failed(_failed({}, 0.0), 0.0), 0.0)
    state, _ = breaker_admit(state, 2.0, RULE)
    assert breaker_record(state, 2.3, RULE, available=True, probe=True) == {}
    assert breaker_admit({}, 2.4, RULE)[1].kind == "go"


def test_a_probe_that_never_reports_lets_another_go_after_its_timeout():
    state = _failed(_failed(_failed({}, 0.0), 0.0), 0.0)
    state, _ = breaker_admit(state, 2.0, RULE)
    assert breaker_admit(state, 36.9, RULE)[1].kind == "paused"
    assert breaker_admit(state, 37.0, RULE)[1].kind == "probe"
