"""support.waits: one setting, TEST_WAIT_SCALE, stretches every wait; a bad value stops the run at once."""

import os
import subprocess
import sys
import time

import pytest

from support import waits
from support.processes import ROOT
from support.waits import scale_from, scaled, wait_for


def test_wait_for_returns_the_predicate_s_value_as_soon_as_it_holds():
    answers = iter([None, 0, "here"])

    assert wait_for(lambda: next(answers), timeout=5, interval=0.01) == "here"


def test_wait_for_s_deadline_is_its_timeout_times_test_wait_scale(monkeypatch):
    monkeypatch.setattr(waits, "SCALE", 3.0)

    started = time.monotonic()
    with pytest.raises(AssertionError) as raised:
        wait_for(lambda: False, timeout=0.2, interval=0.01, what="the impossible")
    waited = time.monotonic() - started

    assert 0.6 <= waited < 3
    assert str(raised.value) == (
        "Timed out after 0.6 s (0.2 s scaled by TEST_WAIT_SCALE=3) waiting for the impossible"
    )


def test_scaled_multiplies_by_the_setting(monkeypatch):
    monkeypatch.setattr(waits, "SCALE", 2.5)

    assert scaled(10) == 25


@pytest.mark.parametrize(("value", "scale"), [(None, 1), ("", 1), (" 2.5 ", 2.5), ("1", 1)])
def test_an_unset_or_empty_setting_is_1_and_a_number_at_least_1_is_taken(value, scale):
    assert scale_from(value) == scale


@pytest.mark.parametrize("value", ["fast", "0.5", "0", "-2", "nan", "inf"])
def test_a_bad_test_wait_scale_fails_at_import_naming_the_setting_and_what_it_takes(value):
    env = {**os.environ, "TEST_WAIT_SCALE": value}
    done = subprocess.run(
        [sys.executable, "-c", "import support.waits"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=scaled(30),
    )  # fmt: skip

    assert done.returncode != 0
    assert f"ValueError: TEST_WAIT_SCALE={value!r} is not a number ≥ 1." in done.stderr
