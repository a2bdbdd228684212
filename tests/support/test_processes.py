"""support.processes: a stop always ends the process (its whole group), an early exit shows its log."""

import signal
import sys
import time
from pathlib import Path

import pytest

from support import waits
from support.processes import ExitedEarly, ManagedProcess
from support.waits import wait_for

# A child that says so once SIGTERM is ignored, then sleeps: only SIGKILL ends it.
IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
# A group leader that starts such a child, prints the child's pid, and ignores SIGTERM too.
LEADS_A_GROUP = (
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    f"child = subprocess.Popen([sys.executable, '-c', {IGNORES_SIGTERM!r}]); "
    "print('child', child.pid, flush=True); time.sleep(60)"
)


def python(code: str, tmp_path: Path, **options) -> ManagedProcess:
    return ManagedProcess([sys.executable, "-c", code], tmp_path / "child.log", name="the child", **options)


def gone(pid: int) -> bool:
    """Whether `pid` has ended (no such process, or a zombie its new parent has not reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_process_that_ignores_sigterm_is_killed_once_the_scaled_grace_is_over(tmp_path, monkeypatch):
    monkeypatch.setattr(waits, "SCALE", 3.0)
    child = python(IGNORES_SIGTERM, tmp_path, stop_timeout=0.2).start()
    child.wait_until(lambda: "ready" in child.log_tail(), timeout=10)

    started = time.monotonic()
    assert child.stop() is None  # None: it had to be killed
    waited = time.monotonic() - started

    assert child.returncode == -signal.SIGKILL
    assert 0.6 <= waited < 5  # 0.2 s of grace times the scale, then SIGKILL at once


def test_a_process_that_obeys_sigterm_stops_with_its_exit_status(tmp_path):
    child = python("import time; print('ready', flush=True); time.sleep(60)", tmp_path).start()
    child.wait_until(lambda: "ready" in child.log_tail(), timeout=10)

    assert child.stop() == -signal.SIGTERM
    assert child.stop() == -signal.SIGTERM  # a second stop only reports it


def test_a_stop_kills_the_whole_process_group_grandchildren_included(tmp_path, monkeypatch):
    monkeypatch.setattr(waits, "SCALE", 1.0)
    leader = python(LEADS_A_GROUP, tmp_path, own_group=True, stop_timeout=0.2).start()
    line = leader.wait_until(lambda: "ready" in leader.log_tail() and leader.log_tail(), timeout=10)
    grandchild = int(next(text for text in line.splitlines() if text.startswith("child ")).split()[1])

    assert leader.stop() is None

    assert leader.returncode == -signal.SIGKILL
    wait_for(lambda: gone(grandchild), timeout=5, what=f"the grandchild {grandchild} to be gone")


def test_check_alive_raises_with_the_log_tail_once_the_process_has_exited(tmp_path):
    child = python("print('boom: the reason it stopped'); raise SystemExit(3)", tmp_path).start()
    child.wait(timeout=10)

    with pytest.raises(ExitedEarly, match=r"the child exited early \(3\)") as raised:
        child.check_alive()

    assert "boom: the reason it stopped" in str(raised.value)


def test_a_wait_on_a_process_that_exits_fails_at_once_instead_of_at_its_deadline(tmp_path):
    child = python("print('no luck'); raise SystemExit(1)", tmp_path).start()

    started = time.monotonic()
    with pytest.raises(ExitedEarly, match="no luck"):
        child.wait_until(lambda: False, timeout=60, what="something that never comes")

    assert time.monotonic() - started < 10


def test_a_ready_probe_is_waited_for_while_the_process_runs(tmp_path):
    marker = tmp_path / "up"
    child = python(f"import pathlib, time; time.sleep(0.3); pathlib.Path({str(marker)!r}).touch(); time.sleep(60)",
                   tmp_path, ready=marker.exists)  # fmt: skip

    with child.start():
        child.wait_ready(timeout=10)

    assert marker.exists()
    assert child.returncode == -signal.SIGTERM  # leaving the block stopped it
