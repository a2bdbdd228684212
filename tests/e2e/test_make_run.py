"""`make run` from a clean copy: the contract's curl workflow works, and Ctrl-C leaves nothing behind."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.processes import ROOT, free_port, wait_for

pytestmark = pytest.mark.e2e
EXAMPLE_COMPANY = "123e4567-e89b-12d3-a456-426614174000"  # the original service's documented example id


def clean_copy(destination: Path) -> Path:
    """The repository's files as a clone would have them (tracked, plus new files not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
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
            ["curl", "-s", "-H", self.header, *args], capture_output=True, text=True, timeout=30
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


@pytest.fixture
def make_run(tmp_path):
    copy = clean_copy(tmp_path / "sii-tasks")
    web_port, simulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    log = (tmp_path / "make-run.log").open("w")
    command = [
        "make",
        "run",
        f"VENV={ROOT / '.venv'}",
        f"WEB_PORT={web_port}",
        f"SII_SIMULATOR_PORT={simulator_port}",
    ]
    process = subprocess.Popen(
        command, cwd=copy, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    output = tmp_path / "make-run.log"
    yield process, output, copy, f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{simulator_port}"
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def test_make_run_serves_the_contract_workflow_and_ctrl_c_stops_every_process(make_run):
    process, output, copy, web, simulator = make_run
    token = wait_for(
        lambda: _printed_token(output), timeout=240, interval=0.5, what="make run to print the token"
    )
    wait_for(
        lambda: _answers(f"{web}/readyz"),
        timeout=60,
        interval=0.5,
        what=f"the system to be ready\n{output.read_text()[-3000:]}",
    )
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

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    process.wait(timeout=60)
    time.sleep(0.5)
    assert processes_under(copy) == []
    log = output.read_text()
    assert "SIGINT received" in log
    assert "SII simulator stopped." in log


def _printed_token(output: Path) -> str | None:
    for line in output.read_text().splitlines():
        if line.startswith("API token: "):
            return line.removeprefix("API token: ").strip()
    return None


def _answers(url: str) -> bool:
    done = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url], capture_output=True, text=True
    )
    return done.stdout == "200"


def _slow_down_the_sii(simulator: str) -> None:
    fault = json.dumps({"path": "TMBCOC_InformeMensualBheRec.cgi", "fault": "delay:2000", "times": None})
    subprocess.run(
        ["curl", "-s", "-X", "POST", f"{simulator}/__sim__/faults", "-H", "Content-Type: application/json", "-d", fault],
        check=True, capture_output=True,
    )  # fmt: skip
