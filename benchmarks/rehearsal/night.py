"""One rehearsed night (`python -m benchmarks.rehearsal.night PLAN_JSON OUT_JSON`), in the environment
the rehearsal gives it (its database, broker and Redis): the simulator and the workers as processes,
the all-companies sync launched as beat would, on-demand launches meanwhile, an SII outage midway."""

import json
import os
import random
import sys
import threading
import time
from pathlib import Path

import django
import httpx

from benchmarks.rehearsal.plan import NightPlan
from support.processes import ManagedProcess, free_port

POLL_SECONDS = 2.0


def main(plan_path: str, out_path: str) -> None:
    plan = NightPlan(**json.loads(Path(plan_path).read_text()))
    django.setup()
    from django.core.management import call_command

    from benchmarks.rehearsal import fill, measure

    call_command("migrate", verbosity=0)
    company_ids = fill.companies_create(count=plan.companies)
    logs = Path(out_path).parent / Path(out_path).stem
    logs.mkdir(parents=True, exist_ok=True)
    simulator, sim_url = _simulator_start(plan, logs)
    workers = [_worker_start(number, plan, sim_url, logs) for number in range(plan.workers)]
    try:
        night = _night(plan, sim_url, company_ids)
        night["traffic"] = httpx.get(f"{sim_url}/__sim__/traffic", timeout=60).json()
        Path(out_path).write_text(json.dumps(measure.night_figures(plan=plan, night=night), indent=1))
    finally:
        for process in (*workers, simulator):
            process.stop()


def _simulator_start(plan: NightPlan, logs: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    command = [
        sys.executable,
        "manage.py",
        "run_sii_simulator",
        "--port",
        str(port),
        "--latency",
        str(plan.latency),
    ]
    url = f"http://127.0.0.1:{port}"
    simulator = ManagedProcess(
        command, logs / "simulator.log", name="the simulator", ready=lambda: _answers(url)
    )
    simulator.start().wait_ready(timeout=60)
    return simulator, url


def _worker_start(number: int, plan: NightPlan, sim_url: str, logs: Path) -> ManagedProcess:
    from config.celery import app

    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
        "--concurrency", str(plan.concurrency), "-l", "warning", "-n", f"rehearsal-{number}@%h",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    env = {**os.environ, "SII_SIMULATOR_URL": sim_url}
    worker = ManagedProcess(
        command, logs / f"worker-{number}.log", name=f"worker {number}", env=env, own_group=True
    )
    worker.start().wait_until(lambda: app.control.ping(timeout=1.0), timeout=120, what=f"worker {number}")
    return worker


def _night(plan: NightPlan, sim_url: str, company_ids: list[str]) -> dict:
    """Launch the fan-out, then launch on demand and cause the outage until every child finished."""
    from tasks_api.services.launches import task_launch

    parent = task_launch(
        task_type="sii.sync_documents_all_companies",
        params={"months": 1, "month_offset": 0},
        launched_by="beat",
    )
    done = threading.Event()
    ondemand: list[str] = []
    launcher = threading.Thread(
        target=_launch_on_demand, args=(plan, company_ids, ondemand, done), daemon=True
    )
    launcher.start()
    outage = _watch(plan, sim_url, parent.task_id)
    done.set()
    launcher.join()
    _wait_finished(ondemand)
    return {"parent": parent.task_id, "ondemand": ondemand, "outage": outage}


def _launch_on_demand(
    plan: NightPlan, company_ids: list[str], launched: list[str], done: threading.Event
) -> None:
    from django.db import connection

    from tasks_api.services.launches import task_launch

    pick = random.Random(42)
    while not done.wait(plan.ondemand_every):
        company_id = pick.choice(company_ids)
        run = task_launch(
            task_type="sii.sync_documents", params={"company_id": company_id}, launched_by="user"
        )
        launched.append(run.task_id)
    connection.close()


def _watch(plan: NightPlan, sim_url: str, parent_id: str) -> dict:
    """Until every child finished; the outage begins once half of them did."""
    outage: dict = {}
    while True:
        finished, total = _children_finished(parent_id)
        if total and finished == total and _parent_finished(parent_id):
            return outage
        if plan.outage and not outage and total and finished >= total / 2:
            outage = _outage(plan, sim_url)
        time.sleep(POLL_SECONDS)


def _outage(plan: NightPlan, sim_url: str) -> dict:
    """Every SII request answers 503 for plan.outage seconds."""
    rule = {"path": "/", "fault": "http:503", "times": None}
    began = time.time()
    httpx.post(f"{sim_url}/__sim__/faults", json=rule, timeout=10).raise_for_status()
    time.sleep(plan.outage)
    httpx.delete(f"{sim_url}/__sim__/faults", timeout=10).raise_for_status()
    return {"began": began, "ended": time.time()}


def _children_finished(parent_id: str) -> tuple[int, int]:
    from tasks_api.runs import FINISHED, TaskLaunch

    children = TaskLaunch.objects.filter(parent_id=parent_id)
    return children.filter(status__in=FINISHED).count(), children.count()


def _parent_finished(parent_id: str) -> bool:
    from tasks_api.runs import FINISHED, TaskLaunch

    return TaskLaunch.objects.filter(task_id=parent_id, status__in=FINISHED).exists()


def _wait_finished(task_ids: list[str]) -> None:
    from tasks_api.runs import FINISHED, TaskLaunch

    while TaskLaunch.objects.filter(task_id__in=task_ids).exclude(status__in=FINISHED).exists():
        time.sleep(POLL_SECONDS)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/__sim__/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":
    main(*sys.argv[1:3])
