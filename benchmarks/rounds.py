"""The measured part: rounds of web and visibility rows (ours, then Flower, alternating), the
worker-CPU row (ours against a bare task, alternating), then status growth, on a running Stack."""

from dataclasses import dataclass, field

from django_celery_results.models import TaskResult

from benchmarks import visible, web, worker_cpu
from benchmarks.figures import Figures
from benchmarks.growth import status_growth
from benchmarks.machine import machine_info
from benchmarks.plan import Plan
from benchmarks.progress import say
from benchmarks.stack import Stack
from config.celery import app
from support.waits import wait_for

QUEUE = "celery"
DRAIN_TIMEOUT = 300


@dataclass
class Bench:
    stack: Stack
    plan: Plan
    client: str
    user: object
    token: str
    finished: dict[str, str]
    figures: Figures = field(default_factory=lambda: Figures(web.SPECS + visible.SPECS + worker_cpu.SPECS))
    rounds: list[dict] = field(default_factory=list)

    @classmethod
    def start(cls, *, stack: Stack, plan: Plan, client: str) -> "Bench":
        """Start gunicorn and the worker; a superuser's API token; one finished run per side."""
        from django.contrib.auth import get_user_model
        from knox.models import AuthToken

        say("Starting gunicorn and the worker")
        stack.start(app)
        app.control.disable_events()
        user = get_user_model().objects.create_superuser("bench", password=None)
        _, token = AuthToken.objects.create(user=user, expiry=None)
        finished = {"ours": _finished_ours(user), "reference": _finished_bare()}
        return cls(stack=stack, plan=plan, client=client, user=user, token=token, finished=finished)

    def run(self) -> dict:
        for number in range(1, self.plan.rounds + 1):
            order = ("ours", "reference") if number % 2 else ("reference", "ours")
            say(f"Round {number}: {' then '.join(order)}")
            record: dict = {"round": number, "order": order}
            for side in order:
                record[side] = self._side(side)
            record["worker_cpu"] = {side: self._worker(side) for side in order}
            self.rounds.append(record)
        say("Status growth")
        growth, growth_raw = self._growth()
        return {
            "rows": self.figures.rows(),
            "growth": [growth],
            "rounds": self.rounds,
            "status_growth": growth_raw,
            "machine": machine_info(client=self.client),
            "plan": self.plan.__dict__,
            "logs": str(self.stack.logs),
        }

    def _side(self, side: str) -> dict:
        say(f"  {side}: web and visibility rows")
        if side == "ours":
            return self._measure(self._ours())
        self.stack.flower_start()
        say("  Flower answers")
        try:
            return self._measure(self._flower())
        finally:
            self.stack.flower_stop(app)

    def _measure(self, side: web.Side) -> dict:
        values, raw = web.web_measure(side, plan=self.plan, client=self.client, drain=drain)
        drain()
        shown, raw_visible = visible.visible_measure(side, runs=self.plan.visible_runs)
        self.figures.add(side.name, values | shown)
        return raw | raw_visible

    def _worker(self, side: str) -> float:
        say(f"  {side}: worker CPU")
        drain()
        measured = worker_cpu.worker_measure(
            side, app=app, worker=self.stack.worker, tasks=self.plan.worker_tasks, user=self.user
        )
        self.figures.add(side, measured)
        return measured["worker_cpu"]

    def _ours(self) -> web.Side:
        return web.ours(service=self.stack.web, base_url=self.stack.web_url, token=self.token,
                        finished_id=self.finished["ours"])  # fmt: skip

    def _flower(self) -> web.Side:
        return web.flower(service=self.stack.flower, base_url=self.stack.flower_url,
                          auth=self.stack.flower_auth, finished_id=self.finished["reference"])  # fmt: skip

    def _growth(self) -> tuple[dict, dict]:
        from django.db import connection

        drain()
        table, raw = status_growth(status=self._ours().status, sizes=self.plan.growth_sizes,
                                   seconds=self.plan.phase_seconds, client=self.client)  # fmt: skip
        with connection.cursor() as cursor:  # the benchmark modules after this one get small tables
            cursor.execute("TRUNCATE tasks_api_tasklaunch, django_celery_results_taskresult CASCADE")
        return table, raw


def drain() -> None:
    """Wait until the worker has taken every queued task (or purge what is left after a while)."""
    client = app.connection_for_write().default_channel.client
    try:
        wait_for(lambda: client.llen(QUEUE) == 0, timeout=DRAIN_TIMEOUT, interval=0.1, what="the queue")
    except AssertionError:
        say(f"Warning: the queue did not drain in {DRAIN_TIMEOUT} s; purging it")
        app.control.purge()


def _finished_ours(user) -> str:
    from tasks_api.services.catalog import task_launch_validated

    task_id = str(task_launch_validated(task_type="bench.noop", data={}, user=user).task_id)
    return _wait_success(task_id)


def _finished_bare() -> str:
    return _wait_success(app.send_task("bench.bare").id)


def _wait_success(task_id: str) -> str:
    wait_for(lambda: TaskResult.objects.filter(task_id=task_id, status="SUCCESS").exists(),
             timeout=60, interval=0.05, what=f"task {task_id} to succeed")  # fmt: skip
    return task_id
