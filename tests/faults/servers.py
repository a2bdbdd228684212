"""Throwaway PostgreSQL and Redis servers for the fault tests: their own directory and port, real kills."""

import os
import shutil
import signal
import subprocess
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal, Self

import psycopg
import redis
from psycopg import sql

from support.processes import ManagedProcess, free_port
from support.waits import scaled

DIR_PREFIX = "sii-faults-"
StopMode = Literal["smart", "fast", "immediate"]


def scratch_dir() -> Path:
    """A new temporary directory named after this process, so a later run can tell it is stale."""
    path = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-"))
    path.chmod(0o711)  # the postgres OS user must reach its cluster directory inside
    return path


def remove_stale_dirs() -> list[Path]:
    """Remove the scratch directories of runs whose process is gone (SIGKILLed before cleanup).

    Their servers died with them (parent-death signal); only the files were left behind.
    """
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{DIR_PREFIX}*-*"):
        pid = path.name.removeprefix(DIR_PREFIX).partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def pg_bindir() -> Path:
    """Where initdb and postgres live (/usr/lib/postgresql/<version>/bin on Debian)."""
    found = subprocess.run(
        ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=scaled(30)
    )
    return Path(found.stdout.strip())


class _Server(ABC):
    """What both servers share: one managed process (restartable), its directory and log, clean-up."""

    process: ManagedProcess
    root: Path

    @abstractmethod
    def start(self) -> None:
        """Start the server (again, on the same port and directory) and wait until it answers."""

    @property
    def running(self) -> bool:
        return self.process.running

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def close(self) -> None:
        """Kill the server if it runs and remove its directory."""
        self.process.stop(signal.SIGKILL, timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:  # a server that never answered must not outlive the failure
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ThrowawayPostgres(_Server):
    """A PostgreSQL cluster of its own: initdb in `root`, trust auth, 127.0.0.1 on a free port.

    initdb and postgres refuse to run as root (tests run as root in CI): then they run as the
    `postgres` OS user, set by Popen itself so the parent-death signal survives (runuser or su
    would change credentials after it is set, which clears it). Durability settings stay
    PostgreSQL's defaults (fsync, synchronous_commit on), so commits, crashes and recovery behave
    as in production.
    """

    STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}

    def __init__(self, root: Path, *, port: int | None = None) -> None:
        self.root, self.data = root, root / "data"
        self.port = port or free_port()
        self.bindir = pg_bindir()
        as_root = os.geteuid() == 0
        self._as_postgres: dict = (
            {"user": "postgres", "group": "postgres", "extra_groups": []} if as_root else {}
        )
        root.mkdir(parents=True, exist_ok=True)
        if as_root:
            shutil.chown(root, "postgres", "postgres")
        initdb = [
            self.bindir / "initdb", "-D", self.data, "--auth=trust", "--username=postgres",
            "--encoding=UTF8", "--locale=C",
            "--no-sync",  # initdb's own fsyncs only matter if the machine crashes, not the server
        ]  # fmt: skip
        done = subprocess.run(
            initdb, capture_output=True, text=True, check=False, timeout=scaled(120), **self._as_postgres
        )
        if done.returncode:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        command = [
            self.bindir / "postgres", "-D", self.data, "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
            "-c", "shared_buffers=32MB", "-c", "max_connections=50",
        ]  # fmt: skip
        # SIGQUIT is an immediate shutdown: the postmaster takes its backends down with it.
        self.process = ManagedProcess(
            command, root / "postgres.log", name=f"PostgreSQL on port {self.port}", cwd=None, log_mode="a",
            parent_death_signal=signal.SIGQUIT, ready=self._accepts, popen_options=self._as_postgres,
        )  # fmt: skip

    def start(self, timeout: float = 30) -> None:
        """Start the server (after a crash, recovery runs first) and wait until it accepts connections."""
        self.process.start().wait_ready(timeout, interval=0.1)

    def _accepts(self) -> bool:
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=1):
                return True
        except psycopg.OperationalError:  # not listening yet, or "the database system is starting up"
            return False

    def stop(self, mode: StopMode = "fast", timeout: float = 30) -> None:
        """smart waits for clients; fast disconnects them and checkpoints; immediate is a crash
        (no checkpoint: the next start replays the WAL)."""
        self.process.stop(self.STOP_SIGNALS[mode], timeout=timeout)

    def restart(self, mode: StopMode = "fast") -> None:
        self.stop(mode)
        self.start()

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def execute(self, statement: sql.Composable | str, dbname: str = "postgres") -> None:
        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=5) as connection:
            connection.execute(statement)  # type: ignore[arg-type]

    def started_at(self):
        """When the running server started (changes with every restart)."""
        with psycopg.connect(self.url("postgres"), connect_timeout=5) as connection:
            return connection.execute("SELECT pg_postmaster_start_time()").fetchone()[0]  # type: ignore[index]

    def createdb(self, name: str, template: str | None = None) -> str:
        """Create a database (a copy of `template` if given: no one may be connected to it); its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        self.execute(statement)
        return self.url(name)

    def close(self) -> None:
        # An immediate shutdown first, so no backend outlives the postmaster; then the files go.
        self.process.stop(signal.SIGQUIT, timeout=10)
        super().close()


class ThrowawayRedis(_Server):
    """`redis-server` on 127.0.0.1, a free port and its own directory; kill() and start() again
    keep both, so with `appendonly` (the default) what was fsynced is back after a restart."""

    def __init__(
        self, root: Path, *, appendonly: bool = True, appendfsync: str = "everysec", port: int | None = None
    ) -> None:
        self.root = root
        self.port = port or free_port()
        root.mkdir(parents=True, exist_ok=True)
        command = [
            "redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(root),
            "--save", "",  # no RDB snapshots: persistence is the AOF's alone, or nothing
            "--appendonly", "yes" if appendonly else "no", "--appendfsync", appendfsync,
        ]  # fmt: skip
        self.process = ManagedProcess(
            command, root / "redis.log", name=f"Redis on port {self.port}", cwd=None, log_mode="a",
            ready=self._answers,
        )  # fmt: skip

    def start(self, timeout: float = 10) -> None:
        self.process.start().wait_ready(timeout, interval=0.05)

    def _answers(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.exceptions.RedisError:  # refused, or "LOADING" the AOF
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final fsync; what the AOF has on disk is all that survives."""
        self.process.stop(signal.SIGKILL, timeout=10)

    def stop(self) -> None:
        """SIGTERM: Redis's clean shutdown (the AOF is flushed)."""
        self.process.stop(signal.SIGTERM, timeout=10)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db, socket_timeout=2, socket_connect_timeout=2)

    def aof_contains(self, data: bytes) -> bool:
        """Whether `data` has reached the append-only files (Redis 7 keeps them in appendonlydir/)."""
        return any(data in path.read_bytes() for path in self.root.glob("appendonlydir/*.aof"))
