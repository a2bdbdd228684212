"""Increments buffered in process and flushed to the shared store, never on the caller's time.

A daemon thread, started at the first increment of each process (a forked child starts its
own and drops what it inherited: the parent flushes that), flushes about once a second; every
process flushes as it ends (Celery's pool processes on worker_process_shutdown, the rest at exit).
A failed flush keeps the increments for the next one, up to MAX_KEYS series.
"""

import atexit
import logging
import os
import signal
import threading
from collections.abc import Callable

from django.db import connection

from tasks_api.metrics.stores import MetricsStore, metrics_store

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0
# Series kept while the store is down; label values are bounded, so this is never reached in use.
MAX_KEYS = 10_000


class MetricsBuffer:
    def __init__(self, *, store: Callable[[], MetricsStore] = metrics_store, background: bool = True) -> None:
        self._store, self._background = store, background
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._failing = False

    def add(self, increments: dict[str, float]) -> None:
        if self._pid != os.getpid():  # forked without the at-fork hook (it runs for os.fork only)
            self._reset()
        with self._lock:
            self._merge(increments)
            if self._background and (self._thread is None or not self._thread.is_alive()):
                self._start()

    def _merge(self, increments: dict[str, float]) -> None:
        for key, amount in increments.items():
            if key in self._pending or len(self._pending) < MAX_KEYS:
                self._pending[key] = self._pending.get(key, 0.0) + amount

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="metrics-flush", daemon=True)
        # Started with every signal blocked (a thread inherits its creator's mask), so a signal sent
        # to the process lands in the main thread. A Celery pool process blocks its terminate signal
        # there while it holds the pool's result-queue lock; delivered here instead, that signal's
        # default action ended the process with the lock held, and the worker then hung at exit.
        unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            self._thread.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)

    def _run(self) -> None:
        pid, ticks = os.getpid(), threading.Event()  # never set: waits that ignore time.sleep's patches
        while pid == self._pid:
            ticks.wait(FLUSH_SECONDS)
            try:
                self.flush()
                connection.close()  # this thread's own (database store): not held between flushes
            except Exception:  # the thread must outlive anything; the next add restarts it anyway
                logger.warning("The metrics flush thread failed", exc_info=True)

    def flush(self) -> bool:
        """Write what is pending; never raises (a failure is logged and retried later)."""
        with self._lock:
            taken, self._pending = self._pending, {}
        if not taken:
            return True
        try:
            self._store().add(taken)
        except Exception as exc:
            with self._lock:
                self._merge(taken)
            if not self._failing:  # once per outage, not every second
                logger.warning("Could not flush metrics (kept for the next flush): %r", exc)
            self._failing = True
            return False
        self._failing = False
        return True

    def pending(self) -> dict[str, float]:
        with self._lock:
            return dict(self._pending)


buffer = MetricsBuffer()
os.register_at_fork(after_in_child=buffer._reset)
atexit.register(buffer.flush)
