"""Run a Procfile's processes with one labelled log; on Ctrl-C stop them in the declared order."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

GRACE_SECONDS = 30.0  # per stage: past gunicorn's --graceful-timeout 20 and the worker's 3 s soft shutdown
COLOURS = (36, 33, 32, 35, 34, 31)
STOP_ORDER = re.compile(r"#\s*stop order:(.*)")
ASSIGNMENTS = re.compile(r"((?:\w+=\S*\s+)*)(.*)", re.DOTALL)


@dataclass
class Process:
    """One Procfile line, and once started its process and the thread relaying its output."""

    name: str
    command: str
    popen: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    reported: bool = False

    @property
    def label(self) -> str:
        return f"{self.name}.1"

    def shell_command(self) -> list[str]:
        # `sh -c` expands ${VAR:-default} as honcho did. `exec`, so that signals reach the program,
        # not a shell: each command is one program (wrap a pipeline in its own `sh -c '...'`), and
        # leading VAR=value assignments (REMAP_SIGTERM=SIGQUIT celery ...) stay in front of it.
        match = ASSIGNMENTS.fullmatch(self.command)
        assert match is not None  # (.*) matches anything
        assignments, program = match.groups()
        return ["sh", "-c", f"{assignments}exec {program}"]


def procfile_read(path: Path) -> tuple[list[Process], list[list[str]]]:
    """The processes (`name: command` lines) and the stop stages (`# stop order: a b, c, d`)."""
    processes: list[Process] = []
    stages: list[list[str]] = []
    for line in path.read_text().splitlines():
        if order := STOP_ORDER.match(line.strip()):
            stages = [stage.split() for stage in order.group(1).split(",") if stage.strip()]
        elif line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes.append(Process(name.strip(), command.strip()))
    return processes, stages


def stop_stages(processes: list[Process], order: list[list[str]]) -> list[list[Process]]:
    """The stages in order; processes the order does not name stop first, together."""
    by_name = {process.name: process for process in processes}
    if unknown := {name for stage in order for name in stage} - by_name.keys():
        raise SystemExit(f"supervise: the stop order names unknown processes: {sorted(unknown)}")
    first = [process for process in processes if not any(process.name in stage for stage in order)]
    return [stage for stage in [first, *([by_name[n] for n in s] for s in order)] if stage]


class Supervisor:
    """Starts every process in its own session, prefixes its lines, stops the stages in order."""

    def __init__(
        self, processes: list[Process], order: list[list[str]], *, grace: float, out: IO[str]
    ) -> None:
        self.processes, self.stages = processes, stop_stages(processes, order)
        self.grace, self.out = grace, out
        self.width = max(len(label) for label in ["system", *(p.label for p in processes)])
        self.colours = {p.label: COLOURS[i % len(COLOURS)] for i, p in enumerate(processes)}
        self.stop_requested = threading.Event()
        self.killed = False  # a stop that needed SIGKILL is not a clean one
        self.lock = threading.RLock()  # reentrant: a signal handler may print while the main thread does

    def run(self) -> int:
        """Start all, wait for a signal or a death, stop all; 0 after a requested, clean stop."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        for process in self.processes:
            self._start(process)
        died = self._wait_for_stop_or_death()
        self._stop_all()
        return 0 if died is None and not self.killed else 1

    def emit(self, label: str, text: str) -> None:
        shown = label.ljust(self.width)
        if label in self.colours and self.out.isatty():
            shown = f"\033[{self.colours[label]}m{shown}\033[0m"
        with self.lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {shown} | {text}\n")
            self.out.flush()

    def _start(self, process: Process) -> None:
        process.popen = subprocess.Popen(  # noqa: S603  # the commands are the project's own Procfile
            process.shell_command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches the supervisor only
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.emit("system", f"{process.label} started (pid {process.popen.pid}): {process.command}")
        process.reader = threading.Thread(target=self._relay, args=(process,), daemon=True)
        process.reader.start()

    def _relay(self, process: Process) -> None:
        assert process.popen is not None
        assert process.popen.stdout is not None
        for line in iter(process.popen.stdout.readline, b""):
            self.emit(process.label, line.decode(errors="replace").rstrip("\r\n"))

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stop_requested.is_set():  # a second Ctrl-C: the stages have their own deadlines
            self.emit("system", "stopping, please wait")
            return
        self.emit("system", f"{signal.Signals(signum).name} received: stopping")
        self.stop_requested.set()

    def _wait_for_stop_or_death(self) -> Process | None:
        while not self.stop_requested.wait(0.2):
            for process in self.processes:
                if process.popen and process.popen.poll() is not None:
                    self._report(process, " unexpectedly: stopping the others")
                    return process
        return None

    def _stop_all(self) -> None:
        for stage in self.stages:
            running = [p for p in stage if p.popen and p.popen.poll() is None]
            for process in running:
                self.emit("system", f"stopping {process.label} (SIGTERM)")
                _signal(process, signal.SIGTERM, group=False)
            deadline = time.monotonic() + self.grace
            for process in stage:
                self._wait(process, deadline)

    def _wait(self, process: Process, deadline: float) -> None:
        assert process.popen is not None
        assert process.reader is not None
        try:
            process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.emit("system", f"{process.label} did not stop within {self.grace:g} s: sending SIGKILL")
            self.killed = True
            _signal(process, signal.SIGKILL, group=True)
            process.popen.wait()
        process.reader.join(timeout=5)
        if process.reader.is_alive():  # its children still hold the pipe open
            self.emit("system", f"{process.label} left processes behind: sending SIGKILL to its group")
            self.killed = True
            _signal(process, signal.SIGKILL, group=True)
            process.reader.join()
        self._report(process, "")

    def _report(self, process: Process, suffix: str) -> None:
        assert process.popen is not None
        if not process.reported:
            process.reported = True
            code = process.popen.returncode
            status = f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"
            self.emit("system", f"{process.label} exited with {status}{suffix}")


def _signal(process: Process, sig: signal.Signals, *, group: bool) -> None:
    assert process.popen is not None
    try:
        if group:  # its own session: the process group id is its pid
            os.killpg(process.popen.pid, sig)
        else:
            process.popen.send_signal(sig)
    except ProcessLookupError:
        pass


def take_terminal() -> Callable[[], None]:
    """Become the terminal's foreground group, so Ctrl-C reaches this process and not `make`.

    make dies of a SIGINT it receives (after its child exits), which a shell reports as 130;
    out of its group, make only sees the supervisor's own exit status. Returns the undo.
    """
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return lambda: None
    previous = os.getpgrp()
    if previous == os.getpid() or os.tcgetpgrp(tty) != previous:  # already a leader, or in the background
        os.close(tty)
        return lambda: None
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # tcsetpgrp from a background group
    signal.signal(signal.SIGTSTP, signal.SIG_IGN)  # Ctrl-Z would stop us, not make: the shell would hang
    os.setpgid(0, 0)
    os.tcsetpgrp(tty, os.getpgrp())

    def give_back() -> None:
        os.tcsetpgrp(tty, previous)
        os.close(tty)

    return give_back


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("procfile", type=Path)
    parser.add_argument("--grace", type=float, default=GRACE_SECONDS, help="seconds per stop stage")
    arguments = parser.parse_args(argv)
    processes, order = procfile_read(arguments.procfile)
    supervisor = Supervisor(processes, order, grace=arguments.grace, out=sys.stdout)
    give_back = take_terminal()
    try:
        return supervisor.run()
    finally:
        give_back()


if __name__ == "__main__":
    sys.exit(main())
