"""`make run` from a clean copy: the curl workflow works, Ctrl-C stops it in order and hands work back."""

import fcntl
import json
import os
import pty
import re
import shutil
import subprocess
import termios
import time
from pathlib import Path

import pytest

from support.processes import ROOT, ManagedProcess, free_port
from support.waits import scaled, wait_for

pytestmark = pytest.mark.e2e
LABELLED = re.compile(r"\d\d:\d\d:\d\d [a-z]+(\.1)?\s* \| ")  # one clock: the supervisor's
EXAMPLE_COMPANY = "123e4567-e89b-12d3-a456-426614174000"  # the original service's documented example id


def clean_copy(destination: Path) -> Path:
    """The repository's files as a clone would have them (tracked, plus new files not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True, timeout=scaled(60),
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    return destination


class Curl:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.header = base, f"Authorization: Token {token}"

    def __call__(self, *args: str) -> dict:
        done = subprocess.run(
            ["curl", "-s", "-H", self.header, *args], capture_output=True, text=True, timeout=scaled(30)
        )
        return json.loads(done.stdout)

    def launch(self, body: dict) -> str:
        answer = self(
            "-X",
            "POST",
            f"{self.base}/tasks/launch",
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps(body),
        )
        assert "task_id" in answer, answer
        return answer["task_id"]

    def status(self, task_id: str) -> dict:
        return self(f"{self.base}/tasks/{task_id}")


def processes_under(directory: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")).is_relative_to(directory):
                found.append((proc / "cmdline").read_text().replace("\0", " "))
        except OSError:
            continue
    return found


class MakeRun:
    """`make run` in `copy` with a pseudo-terminal as its controlling terminal, so that Ctrl-C is
    the terminal's own: a SIGINT to the foreground process group (which the supervisor takes)."""

    def __init__(self, copy: Path, log: Path, **variables: str) -> None:
        self.copy, self.log = copy, log
        web_port, simulator_port = free_port(), free_port()
        self.web, self.simulator = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{simulator_port}"
        # A user's shell: no servers named, and not inside another make (`make test` runs this,
        # and a nested make would print "Entering/Leaving directory" lines).
        unset = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
        env = {k: v for k, v in os.environ.items() if k not in unset}
        settings = [f"VENV={ROOT / '.venv'}", f"WEB_PORT={web_port}", f"SII_SIMULATOR_PORT={simulator_port}"]
        self.terminal, tty = pty.openpty()
        # On a failed test, stop() sends SIGTERM to make's group (make passes it on to the
        # supervisor), then SIGKILL after 90 s: the supervised processes' own sessions survive that.
        self.process = ManagedProcess(
            ["make", "run", *settings, *(f"{k}={v}" for k, v in variables.items())], log, name="make run",
            env=env, cwd=copy, new_session=True, parent_death_signal=None, preexec=_controlling_terminal,
            popen_options={"stdin": tty}, stop_timeout=90,
        ).start()  # fmt: skip
        os.close(tty)

    def token(self) -> str:
        token = wait_for(lambda: _printed_token(self.log), timeout=240, interval=0.5, what="the token")
        wait_for(
            lambda: (
                _answers(f"{self.web}/readyz") and "celery@" in self.output() and " ready." in self.output()
            ),
            timeout=60,
            interval=0.5,
            what=f"the system to be ready\n{self.output()[-3000:]}",
        )
        return token

    def ctrl_c(self) -> int:
        os.write(self.terminal, b"\x03")  # the terminal sends SIGINT to its foreground group
        return self.process.wait(timeout=90)

    def output(self) -> str:
        return self.log.read_text()

    def close(self) -> None:
        self.process.stop()
        os.close(self.terminal)


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # stdin, in the new session: the pty becomes its terminal


@pytest.fixture
def make_run(tmp_path):
    """Start `make run` (keyword arguments are make variables) in one clean copy of the checkout."""
    copy = clean_copy(tmp_path / "sii-tasks")
    started: list[MakeRun] = []

    def start(**variables: str) -> MakeRun:
        started.append(MakeRun(copy, tmp_path / f"make-run-{len(started)}.log", **variables))
        return started[-1]

    yield start
    for run in started:
        run.close()


def test_make_run_serves_the_contract_workflow_and_ctrl_c_stops_every_process(make_run):
    run = make_run()
    web, simulator, token = run.web, run.simulator, run.token()
    curl = Curl(f"{web}/api/celery", token)

    assert len(curl(f"{web}/api/celery/tasks")) == 4
    task_id = curl.launch(
        {"task_type": "sii.sync_documents", "params": {"company_id": EXAMPLE_COMPANY, "months": 3}}
    )
    done = wait_for(
        lambda: (s := curl.status(task_id))["status"] in ("SUCCESS", "FAILURE") and s,
        timeout=60,
        interval=0.5,
    )
    assert done["status"] == "SUCCESS", done
    assert done["result"]["compras"]["total"] > 0
    stats = curl(f"{web}/api/celery/stats")
    assert len(stats["workers_online"]) == 1
    assert "sii.sync_documents" in stats["registered_tasks"]

    _slow_down_the_sii(simulator)
    running = curl.launch(
        {"task_type": "sii.sync_documents", "params": {"company_id": EXAMPLE_COMPANY, "months": 3}}
    )
    wait_for(
        lambda: curl.status(running)["status"] == "STARTED",
        timeout=30,
        interval=0.3,
        what="the task to start",
    )
    assert curl("-X", "DELETE", f"{web}/api/celery/tasks/{running}")["status"] == "revoked"
    assert wait_for(lambda: curl.status(running)["status"] == "REVOKED", timeout=30, interval=0.5)

    assert run.ctrl_c() == 0, run.output()[-3000:]  # make exits 0: the supervisor took the Ctrl-C
    time.sleep(0.5)
    assert processes_under(run.copy) == []
    log = run.output()
    assert "SIGINT received" in log
    assert "SIGKILL" not in log  # every process stopped within its stage's grace
    assert "Error 130" not in log
    assert "Traceback" not in log
    supervised = log.split("exec python scripts/supervise.py Procfile\n", 1)[1].splitlines()
    assert [line for line in supervised if not LABELLED.match(line)] == []
    assert _first(supervised, "web.1 exited") < _first(supervised, "stopping worker.1")
    assert _first(supervised, "worker.1 exited") < _first(supervised, "simulator.1 | SII simulator stopped.")


def test_a_sync_running_at_ctrl_c_goes_back_to_the_broker_and_completes_at_the_next_make_run(make_run):
    run = make_run()
    curl = Curl(f"{run.web}/api/celery", run.token())
    _slow_down_the_sii(run.simulator)
    task_id = curl.launch(
        {"task_type": "sii.sync_documents", "params": {"company_id": EXAMPLE_COMPANY, "months": 3}}
    )
    wait_for(lambda: curl.status(task_id)["status"] == "STARTED", timeout=30, interval=0.3)

    assert run.ctrl_c() == 0, run.output()[-3000:]
    assert "Restoring 1 unacknowledged message(s)" in run.output()  # the soft shutdown's hand-back
    assert "Retry in" not in run.output()

    again = make_run(SII_SIMULATOR_LATENCY="0")
    curl = Curl(f"{again.web}/api/celery", again.token())
    done = wait_for(
        lambda: (s := curl.status(task_id))["status"] in ("SUCCESS", "FAILURE", "RETRY") and s,
        timeout=60,
        interval=0.5,
    )
    assert done["status"] == "SUCCESS", json.dumps(
        [done, curl(f"{again.web}/api/celery/tasks/{task_id}/attempts")]
    )
    assert again.ctrl_c() == 0, again.output()[-3000:]


def _printed_token(output: Path) -> str | None:
    for line in output.read_text().splitlines():
        if line.startswith("API token: "):
            return line.removeprefix("API token: ").strip()
    return None


def _first(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


def _answers(url: str) -> bool:
    done = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url],
        capture_output=True, text=True, timeout=scaled(30),
    )  # fmt: skip
    return done.stdout == "200"


def _slow_down_the_sii(simulator: str) -> None:
    fault = json.dumps({"path": "TMBCOC_InformeMensualBheRec.cgi", "fault": "delay:2000", "times": None})
    subprocess.run(
        ["curl", "-s", "-X", "POST", f"{simulator}/__sim__/faults", "-H", "Content-Type: application/json", "-d", fault],
        check=True, capture_output=True, timeout=scaled(30),
    )  # fmt: skip
