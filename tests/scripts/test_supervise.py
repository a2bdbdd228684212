"""scripts/supervise.py with small fake Procfiles: stop order, a death, the grace period, labelled lines."""

import fcntl
import os
import pty
import re
import signal
import sys
import termios
from pathlib import Path

import pytest

from support.processes import ROOT, ManagedProcess
from support.waits import wait_for

# A process that says it is up, then on SIGTERM runs `on_term` and exits 0.
TRAPPED = "sh -c 'trap \"{on_term}; exit 0\" TERM; echo up; while :; do sleep 0.05; done'"


class Supervised:
    """`python scripts/supervise.py PROCFILE` in its own session, its output in a file."""

    def __init__(self, tmp_path: Path, procfile: str, *options: str) -> None:
        (tmp_path / "Procfile").write_text(procfile)
        self.log = tmp_path / "supervise.log"
        command = [sys.executable, ROOT / "scripts" / "supervise.py", *options, tmp_path / "Procfile"]
        self.process = ManagedProcess(
            command, self.log, name="supervise.py", new_session=True, stop_timeout=30
        ).start()

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def wait_for_lines(self, text: str, count: int = 1) -> None:
        wait_for(lambda: sum(text in line for line in self.lines()) >= count, timeout=20, what=text)

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """`sig` to the supervisor (its children have sessions of their own); its exit status."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def first(self, message: str) -> int:
        """The index of the first line whose message (after the label) starts with `message`."""
        return next(i for i, line in enumerate(self.lines()) if line.split(" | ", 1)[1].startswith(message))


@pytest.fixture
def supervise(tmp_path):
    started: list[Supervised] = []

    def start(procfile: str, *options: str) -> Supervised:
        started.append(Supervised(tmp_path, procfile, *options))
        return started[-1]

    yield start
    for supervised in started:
        supervised.process.stop()


def test_ctrl_c_stops_the_stages_in_the_declared_order_each_waited_for(supervise):
    supervised = supervise(
        "# stop order: early, middle, late\n"
        f"late: {TRAPPED.format(on_term='echo late stopped')}\n"
        f"middle: {TRAPPED.format(on_term='sleep 1; echo middle stopped')}\n"
        f"early: {TRAPPED.format(on_term='echo early stopped')}\n"
    )
    supervised.wait_for_lines("| up", count=3)

    assert supervised.stop(signal.SIGINT) == 0
    assert supervised.first("early stopped") < supervised.first("stopping middle.1")
    assert supervised.first("middle.1 exited with status 0") < supervised.first("stopping late.1")
    assert supervised.first("stopping late.1") < supervised.first("late stopped")


def test_a_second_ctrl_c_while_stopping_only_asks_to_wait(supervise):
    supervised = supervise(f"slow: {TRAPPED.format(on_term='sleep 1; echo slow stopped')}\n")
    supervised.wait_for_lines("| up")
    supervised.process.send_signal(signal.SIGINT)
    supervised.wait_for_lines("stopping slow.1")

    assert supervised.stop(signal.SIGINT) == 0
    assert supervised.first("stopping, please wait") < supervised.first("slow stopped")


def test_a_process_that_exits_on_its_own_stops_the_others_and_fails_the_supervisor(supervise):
    supervised = supervise(
        f"stays: {TRAPPED.format(on_term='echo stays stopped')}\n"
        "dies: sh -c 'sleep 0.5; echo \"$0\"; exit 3' ${WORD:-expanded}\n"
    )

    assert supervised.process.wait(timeout=30) == 1
    assert "dies.1 exited with status 3 unexpectedly: stopping the others" in supervised.log.read_text()
    assert supervised.first("expanded") < supervised.first("stays stopped")


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(supervise):
    supervised = supervise(
        "stubborn: sh -c 'trap \"\" TERM; echo up; while :; do sleep 0.05; done'\n", "--grace", "1"
    )
    supervised.wait_for_lines("| up")

    assert supervised.stop(signal.SIGTERM) == 1  # not a clean stop
    log = supervised.log.read_text()
    assert "stubborn.1 did not stop within 1 s: sending SIGKILL" in log
    assert "stubborn.1 exited with signal SIGKILL" in log


def test_every_line_of_stdout_and_stderr_is_prefixed_with_one_clock_and_the_label(supervise):
    supervised = supervise(
        "talker: sh -c 'echo one; echo two >&2; trap \"printf last; exit 0\" TERM; while :; do sleep 0.05; done'\n"
    )
    supervised.wait_for_lines("| two")

    assert supervised.stop(signal.SIGTERM) == 0
    lines = supervised.lines()
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d (system|talker\.1) +\| .*", line) for line in lines), lines
    assert [line.split("| ", 1)[1] for line in lines if "talker.1 " in line[:20]] == ["one", "two", "last"]
    assert os.linesep.join(lines).count("SIGTERM received: stopping") == 1


def test_ctrl_c_in_a_terminal_reaches_the_supervisor_only_so_make_exits_0(tmp_path):
    (tmp_path / "Procfile").write_text(f"quiet: {TRAPPED.format(on_term='echo quiet stopped')}\n")
    (tmp_path / "Makefile").write_text(
        f"run:\n\texec {sys.executable} {ROOT / 'scripts' / 'supervise.py'} Procfile\n"
    )
    log = tmp_path / "make.log"
    terminal, tty = pty.openpty()
    make = ManagedProcess(
        ["make", "run"], log, name="make run", cwd=tmp_path, new_session=True, stop_timeout=30,
        preexec=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0), popen_options={"stdin": tty},
    ).start()  # fmt: skip
    os.close(tty)
    try:
        wait_for(lambda: "| up" in log.read_text(), timeout=20, what="the process to start")

        os.write(terminal, b"\x03")  # Ctrl-C: SIGINT to the terminal's foreground process group
        assert make.wait(timeout=30) == 0  # in that group, make would die of the SIGINT itself
    finally:
        make.stop()
        os.close(terminal)
    assert "SIGINT received: stopping" in log.read_text()
    assert "quiet stopped" in log.read_text()
