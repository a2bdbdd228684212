"""One way to run a process in tests and benchmarks: start it, wait until it answers, stop it for sure."""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from support.waits import scaled, wait_for

ROOT = Path(__file__).resolve().parent.parent  # the project: where its commands run by default
T = TypeVar("T")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Resolved at import: a preexec_fn runs between fork and exec, where loading a library could
# deadlock on a lock another thread (the served simulator's) held at fork time.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A Popen `preexec_fn` that makes the child get `sig` when this process dies (Linux only).

    A killed test run then leaves no orphan holding a database or a port. The kernel clears the
    setting when the child changes its user, so pass Popen's `user=` (applied before this runs),
    not `runuser`. It fires when the *thread* that started the child exits: start children from
    the main thread. Returns None (no preexec_fn) where prctl does not exist.
    """
    if _prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ExitedEarly(AssertionError):
    """A managed process is not running while something waits on it; the message has its log's tail."""


@dataclass(eq=False)
class ManagedProcess:
    """A command in a subprocess, its stdout and stderr in `log_path`, and a stop that always ends it.

    `start()` runs it (again after a stop: same command, log and options). `stop()` sends a signal,
    waits scaled(`stop_timeout`) s, then SIGKILLs. With `own_group` or `new_session` the process
    leads a process group, and signals go to the whole group, so no grandchild outlives a stop.
    Unless `parent_death_signal` is None, the kernel sends it to the process if this one dies.
    """

    command: Sequence[str | os.PathLike[str]]
    log_path: Path
    name: str = "the process"
    env: Mapping[str, str] | None = field(default=None, repr=False)  # keys and passwords: not shown
    cwd: Path | None = ROOT
    log_mode: Literal["w", "a"] = "w"
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 10
    own_group: bool = False
    new_session: bool = False
    parent_death_signal: int | None = signal.SIGKILL
    preexec: Callable[[], None] | None = None  # runs in the child after the parent-death setting
    ready: Callable[[], object] | None = None  # truthy once the process serves (see wait_ready)
    popen_options: Mapping[str, Any] = field(default_factory=dict)  # stdin, user, group...
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> Self:
        # The child writes through its own descriptor: this process need not keep the file open.
        with self.log_path.open(self.log_mode) as log:
            self.process = subprocess.Popen(  # noqa: S603  # the callers' own commands
                self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                process_group=0 if self.own_group else None, start_new_session=self.new_session,
                preexec_fn=self._preexec(), **self.popen_options,
            )  # fmt: skip
        return self

    def _preexec(self) -> Callable[[], None] | None:
        """The child's set-up between fork and exec: the parent-death signal, then `preexec`."""
        death = die_with_parent(self.parent_death_signal) if self.parent_death_signal is not None else None
        steps = [step for step in (death, self.preexec) if step is not None]

        def run_steps() -> None:
            for step in steps:
                step()

        return run_steps if steps else None

    @property
    def pid(self) -> int:
        return self._started().pid

    @property
    def returncode(self) -> int | None:
        """The exit status once it has exited (negative: killed by that signal), else None."""
        return self._started().poll()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def leads_group(self) -> bool:
        return self.own_group or self.new_session

    def _started(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise ExitedEarly(f"{self.name} was never started")
        return self.process

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """Raise ExitedEarly, with the log's tail, unless the process is running."""
        if self.returncode is not None:
            raise ExitedEarly(f"{self.name} exited early ({self.returncode}):\n{self.log_tail()}")

    def wait_until(
        self, predicate: Callable[[], T], *, timeout: float, interval: float = 0.2, what: str = ""
    ) -> T:
        """wait_for(`predicate`), failing at once with the log's tail if the process exits."""

        def alive_and_true() -> T:
            self.check_alive()
            return predicate()

        return wait_for(alive_and_true, timeout=timeout, interval=interval, what=what or str(predicate))

    def wait_ready(self, timeout: float = 30, *, interval: float = 0.2) -> None:
        """Until the `ready` probe holds (at once without one), for up to scaled(`timeout`) s."""
        probe = self.ready or (lambda: True)
        self.wait_until(probe, timeout=timeout, interval=interval, what=f"{self.name} to be ready")

    def send_signal(self, sig: int) -> None:
        """`sig` to the process, or to its whole group when it leads one."""
        process = self._started()
        if not self.leads_group:
            process.send_signal(sig)
            return
        # ProcessLookupError: no member left; PermissionError: the group's id went to someone else's.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)

    def wait(self, timeout: float) -> int:
        """Its exit status, waiting up to scaled(`timeout`) s (subprocess.TimeoutExpired after)."""
        return self._started().wait(timeout=scaled(timeout))

    def stop(self, sig: int | None = None, *, timeout: float | None = None) -> int | None:
        """Send `sig` (`stop_signal` by default), wait up to scaled(`timeout`) s, then SIGKILL.

        Its exit status, or None when it had to be killed (or was never started).
        """
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.send_signal(self.stop_signal if sig is None else sig)
            if not self._exits_within(self.stop_timeout if timeout is None else timeout):
                self.send_signal(signal.SIGKILL)
                self.process.wait()
                return None
        if self.leads_group:
            self.send_signal(signal.SIGKILL)  # whatever of the group outlived its leader
        return self.process.returncode

    def _exits_within(self, timeout: float) -> bool:
        try:
            self.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def __enter__(self) -> Self:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
