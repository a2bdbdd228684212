"""Fault-injection fixtures: throwaway PostgreSQL and Redis, and a real worker system on them."""

import json
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import MethodType

import dj_database_url
import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django_celery_results.models import TaskResult

from sii import rut as rut_helpers
from sii.models import Company, FeeReceipt, PurchaseDocument, SaleDocument, Subscription
from sii.simulator import data
from support.processes import ManagedProcess, die_with_parent
from support.waits import scaled, wait_for
from tests.factories import SIMULATOR_CLAVE
from tests.faults.servers import ThrowawayPostgres, ThrowawayRedis, remove_stale_dirs, scratch_dir
from tests.faults.trials import RECOVERY, parametrize_trials, write_table
from tests.processes import ROOT, WorkerProcess, worker_env

ARTIFACTS = ROOT / "artifacts" / "faults"
TEMPLATE = "faults_template"
ALIAS = "faults"  # the Django database alias of the current test's throwaway database
FINISHED = ("SUCCESS", "FAILURE", "REVOKED")
DISAGREEING_RUNS = """
    SELECT run.task_id, run.status, result.status FROM tasks_api_tasklaunch AS run
    LEFT JOIN django_celery_results_taskresult AS result ON result.task_id = run.task_id
    WHERE result.status IS DISTINCT FROM run.status AND NOT (result.status IS NULL AND (
        run.status = 'PENDING' OR (run.status = 'FAILURE' AND run.enqueued IS FALSE)
        OR (run.status = 'REVOKED' AND run.revoke_requested_at IS NOT NULL)))
"""
# The reconciler every 5 s, trusting a claim, an empty queue and an overdue retry for 5 s
# (defaults: 30, 30, 60, 60).
FAST_RECOVERY = {
    "TASKS_API_RECONCILE_SECONDS": "5", "TASKS_API_ORPHAN_AFTER_SECONDS": "5",
    "TASKS_API_LOST_AFTER_SECONDS": "5", "TASKS_API_RETRY_GRACE_SECONDS": "5", "BEAT_LEASE_SECONDS": "10",
}  # fmt: skip


def pytest_generate_tests(metafunc):
    parametrize_trials(metafunc)


def pytest_terminal_summary(terminalreporter):
    """The scenarios' table (make faults prints it for the README's "What happens when…")."""
    reports = [
        report
        for outcome in ("passed", "failed", "error", "")  # "": setup and teardown that passed
        for report in terminalreporter.stats.get(outcome, [])
        if isinstance(report, pytest.TestReport) and "tests/faults/" in report.nodeid
    ]
    if reports:
        terminalreporter.write_sep("=", "fault scenarios")
        terminalreporter.write_line(write_table(reports, ARTIFACTS / "table.md"))


@pytest.fixture(scope="session")
def fault_dir():
    """This run's scratch directory (servers' data and logs); stale ones of killed runs go first."""
    remove_stale_dirs()
    path = scratch_dir()
    # SIGTERM (a CI timeout, `kill`) would end the run without tearing anything down: make it an
    # interrupt, which pytest unwinds through every fixture's finaliser. (SIGKILL cannot be
    # caught: the servers then die by their parent-death signal, the directory at the next run.)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield path
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(path, ignore_errors=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def fault_postgres(fault_dir):
    """A throwaway PostgreSQL for the session, never the shared one."""
    with ThrowawayPostgres(fault_dir / "postgres") as postgres:
        yield postgres


@pytest.fixture(scope="session")
def migrated_template(fault_postgres, fault_dir) -> str:
    """A database migrated once; each test's database is a copy (CREATE DATABASE ... TEMPLATE, fast)."""
    url = fault_postgres.createdb(TEMPLATE)
    env = project_env(database_url=url, broker_url="memory://", var_dir=fault_dir / "var")
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    return TEMPLATE


@pytest.fixture
def fault_database(fault_postgres, migrated_template) -> str:
    """A fresh migrated database on the throwaway PostgreSQL; its URL."""
    if not fault_postgres.running:  # a failed test may have left it stopped
        fault_postgres.start()
    return fault_postgres.createdb(f"faults_{uuid.uuid4().hex[:12]}", template=migrated_template)


@pytest.fixture
def fault_redis(fault_dir):
    """A throwaway Redis for one test (a broker with nothing left over), append-only fsynced every second."""
    with ThrowawayRedis(fault_dir / f"redis-{uuid.uuid4().hex[:8]}", appendonly=True) as server:
        yield server


@pytest.fixture
def system(request, fault_dir, fault_postgres, fault_database, fault_redis, served_simulator, live_simulator,
           django_db_blocker):  # fmt: skip
    """This test's system: its database, its broker, the served simulator (reset); workers on demand."""
    with django_db_blocker.unblock():
        real_ensure_connection = BaseDatabaseWrapper.ensure_connection
    logs = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    built = FaultSystem(
        postgres=fault_postgres, database_url=fault_database, redis=fault_redis, simulator=live_simulator,
        simulator_url=served_simulator[1], var_dir=fault_dir / "var", logs=logs,
    )  # fmt: skip
    built.open_alias(real_ensure_connection)
    try:
        yield built
        built.kill_workers()  # nothing moves while the run rows and the results are compared
        assert built.runs_disagreeing_with_their_results() == []
        if (recovery := built.recovery_seconds()) is not None:
            request.node.user_properties.append((RECOVERY, recovery))
    finally:
        built.close()


class FaultSystem:
    """Workers, launches and reads for one test, all on its throwaway database and broker.

    Launches and company creation run the project's own services in `manage.py shell`
    subprocesses with the system's environment (so they publish to the throwaway broker); reads
    use the ORM in this process through the `faults` alias: `TaskLaunch.objects.using(system.db)`.
    """

    def __init__(self, *, postgres, database_url, redis, simulator, simulator_url, var_dir, logs) -> None:
        self.postgres, self.database_url, self.redis = postgres, database_url, redis
        self.simulator, self.logs = simulator, logs
        self.env = (
            project_env(
                database_url=database_url,
                broker_url=redis.url(),
                simulator_url=simulator_url,
                var_dir=var_dir,
            )
            | FAST_RECOVERY
        )
        # A Celery app of this process's own on the throwaway broker, for pings and inspection;
        # never the project's app, which stays on the run's REDIS_URL.
        self.celery = Celery("faults", broker=redis.url(), set_as_current=False)
        self.celery.conf.update(
            broker_connection_timeout=2,
            broker_transport_options={"socket_timeout": 2, "socket_connect_timeout": 2},
        )
        self.workers: list[WorkerProcess] = []
        self.beats: list[ManagedProcess] = []
        self.fault_at: float | None = None  # when the scenario's fault ended (time.monotonic())
        self.settled_at: float | None = None  # when the last awaited run reached its state

    # -- workers ----------------------------------------------------------------------------------

    def start_worker(self, concurrency: int = 1, wait: bool = True, **env: str) -> WorkerProcess:
        """A real `celery worker` on this system; with `wait`, once it answers a ping. Without,
        launch meanwhile: the worker boots in seconds, and a message waits for it in the queue.
        `env` adds settings of this worker's own (SII_FANOUT_BATCH_SIZE="5", say)."""
        log_path = self.logs / f"worker-{len(self.workers) + 1}.log"
        worker = WorkerProcess(env=self.env | env, log_path=log_path, concurrency=concurrency)
        self.workers.append(worker)
        if wait:
            worker.wait_ready(self.celery, timeout=60)
        return worker

    def start_reconciling_beat(self) -> None:
        """A real `celery beat`; with FAST_RECOVERY (every process here has it), its reconciler
        notices a lost message or a dead worker within seconds instead of a minute."""
        command = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "INFO", "--pidfile="]
        self.beats.append(ManagedProcess(command, self.logs / "beat.log", name="beat", env=self.env).start())

    def kill_workers(self) -> None:
        """SIGKILL every worker (their pool processes die with them: parent-death signal)."""
        for worker in self.workers:
            worker.stop(signal.SIGKILL)

    def task_pid(self, task_id: str) -> int:
        """The pid of the pool process running `task_id` (the worker's answer to `inspect active`)."""

        def running() -> int | None:
            try:
                active = (
                    self.celery.control.inspect(timeout=1, limit=1).active() or {}
                )  # one worker: no 1 s wait
            except (redis.ConnectionError, OSError):  # Redis dropped this probe's connection: ask again
                self.celery.pool.force_close_all()
                return None
            return next(
                (t["worker_pid"] for tasks in active.values() for t in tasks if t["id"] == task_id), None
            )

        return self._wait(running, timeout=15, what=f"a worker to report {task_id} active")

    # -- launches ---------------------------------------------------------------------------------

    def shell(self, code: str) -> str:
        """Run `code` in `manage.py shell` with this system's environment; the last line it printed."""
        return manage(self.env, "shell", "--no-imports", "-c", code).splitlines()[-1]

    def create_company(self, *, name: str = "Fallas SpA", rut: str = "76.086.428-5") -> Company:
        """A company with the simulator's clave and an active subscription, as company_create makes
        it, written through the alias (company_create itself writes to `default` only)."""
        parsed = rut_helpers.parse(rut)
        company = Company(name=name, rut_body=parsed.body, rut_dv=parsed.dv)
        company.set_sii_password(SIMULATOR_CLAVE)  # this process's key is the workers' (worker_env)
        company.save(using=self.db)
        Subscription.objects.using(self.db).create(company=company, starts_on=timezone.localdate())
        return company

    def create_companies_without_clave(self, count: int) -> list[str]:
        """`count` subscribed companies with no SII password: each sync of one fails at once
        ("no SII credentials"), so a fan-out over them runs fast. Their ids."""
        companies = [
            Company(
                name=f"Sin clave {n}", rut_body=30_000_000 + n, rut_dv=rut_helpers.check_digit(30_000_000 + n)
            )
            for n in range(count)
        ]
        Company.objects.using(self.db).bulk_create(companies)
        today = timezone.localdate()
        Subscription.objects.using(self.db).bulk_create(
            [Subscription(company=company, starts_on=today) for company in companies]
        )
        return [str(company.pk) for company in companies]

    def launch(self, task_type: str, **params) -> str:
        """Launch through the project's launch service (record, then publish); the task id."""
        return self.shell(
            "import json; from tasks_api.services.launches import task_launch; "
            f"launch = task_launch(task_type={task_type!r}, params=json.loads({json.dumps(params)!r}), "
            "launched_by='system'); "
            "assert launch.enqueued, launch.enqueue_error; print(launch.task_id)"
        )

    # -- recovery ---------------------------------------------------------------------------------

    def fault_over(self) -> None:
        """The fault has been dealt (the server is back, the worker is dead): recovery starts now."""
        self.fault_at = time.monotonic()

    def recovery_seconds(self) -> float | None:
        """From the fault's end to the last run the scenario awaited reaching its state."""
        if self.fault_at is None or self.settled_at is None:
            return None
        return round(max(0.0, self.settled_at - self.fault_at), 1)

    # -- reads ------------------------------------------------------------------------------------

    @property
    def db(self) -> str:
        """The alias to read this system's database with. The connection is renewed at every use:
        the server may have been restarted since the last query, and a reconnect is cheap here."""
        connections[ALIAS].close()
        return ALIAS

    def wait_status(self, task_id: str, statuses=FINISHED, timeout: float = 60) -> TaskResult:
        """The task's result row once its status is one of `statuses` (the database may be down
        meanwhile: that counts as not yet)."""

        def reached() -> TaskResult | None:
            try:
                return TaskResult.objects.using(self.db).filter(task_id=task_id, status__in=statuses).first()
            except OperationalError:
                return None

        stored = self._wait(reached, timeout=timeout, what=f"task {task_id} to reach {statuses}")
        self.settled_at = time.monotonic()
        return stored

    def runs_disagreeing_with_their_results(self) -> list[tuple]:
        """Runs whose stored state is not the result backend's, read in one statement (one
        snapshot). A run with no result may be waiting, have failed to publish, or be revoked
        before any worker had it (a fan-out's child born revoked)."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(DISAGREEING_RUNS)
            return cursor.fetchall()

    def synced_keys(self, company: Company) -> dict[str, list[tuple]]:
        """The company's stored rows by their unique keys (duplicates would show twice)."""
        db = self.db
        return {
            "compras": sorted(PurchaseDocument.objects.using(db).filter(company_id=company.pk).values_list(
                "tipo_doc", "counterparty_rut", "folio")),
            "ventas": sorted(SaleDocument.objects.using(db).filter(company_id=company.pk).values_list(
                "tipo_doc", "counterparty_rut", "folio")),
            "honorarios": sorted(FeeReceipt.objects.using(db).filter(company_id=company.pk).values_list(
                "issuer_rut", "numero")),
        }  # fmt: skip

    @staticmethod
    def expected_keys(company: Company, periods: list[str]) -> dict[str, list[tuple]]:
        """What one clean sync of `periods` stores: the simulator's documents are a pure function
        of (RUT, period), so these are the keys of `synced_keys` after a clean sync."""

        def keys(rows_of, key) -> list[tuple]:
            return sorted({key(row) for period in periods for row in rows_of(company.rut_body, period)})

        def rcv_key(row: dict) -> tuple:
            return row["detTipoDoc"], row["detRutDoc"], row["detNroDoc"]

        return {
            "compras": keys(data.purchases, rcv_key),
            "ventas": keys(data.sales, rcv_key),
            # Received boletas are keyed by their issuer; issued ones' issuer is the company itself.
            "honorarios": sorted(
                keys(data.fee_receipts, lambda row: (int(row["rutemisor"]), int(row["nroboleta"])))
                + keys(data.issued_fee_receipts, lambda row: (company.rut_body, int(row["nroboleta"])))
            ),
        }

    def _wait(self, predicate, *, timeout: float, what: str):
        try:
            return wait_for(predicate, timeout=timeout, interval=0.2, what=what)
        except AssertionError as exc:
            tails = "\n".join(f"--- {w.log_path.name}\n{w.log_tail(30)}" for w in self.workers)
            raise AssertionError(f"{exc}\n{tails}") from None

    # -- set-up and tear-down ---------------------------------------------------------------------

    def open_alias(self, real_ensure_connection) -> None:
        """Register the `faults` alias. pytest-django blocks every connection outside `django_db`
        tests by patching the wrapper class; only this alias's wrapper gets the real method back,
        so an accidental query on `default` (the shared server) still fails loudly."""
        config = dj_database_url.parse(self.database_url)
        connections.settings[ALIAS] = connections.configure_settings({"default": config})["default"]
        wrapper = connections[ALIAS]
        wrapper.ensure_connection = MethodType(real_ensure_connection, wrapper)  # type: ignore[method-assign]

    def close(self) -> None:
        self.kill_workers()  # throwaway: a warm shutdown would wait for any delayed request
        for beat in self.beats:
            beat.stop(signal.SIGKILL)
        self.celery.close()
        connections[ALIAS].close()
        del connections[ALIAS]
        del connections.settings[ALIAS]  # the same dict as settings.DATABASES: leave no trace


def project_env(
    *, database_url: str, broker_url: str, var_dir: Path, simulator_url: str = ""
) -> dict[str, str]:
    """The environment of the project's processes on a throwaway database and broker."""
    env = worker_env(
        database=settings.DATABASES["default"], simulator_url=simulator_url,
        # `extra` wins: the throwaway database and broker replace the run's, and var/ is ours.
        extra={"DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url, "VAR_DIR": str(var_dir)},
    )  # fmt: skip
    env.pop("REDIS_URL", None)  # CELERY_BROKER_URL wins anyway; one broker in sight is clearer
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """`python manage.py <args>` with `env`; its stdout, stripped. Fails with its stderr."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=scaled(timeout), preexec_fn=die_with_parent(),
    )  # fmt: skip
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout.strip()
