"""The simulator's shared state: its calendar, credentials, sessions, request counts and fault rules."""

import secrets
import threading
import time
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sii.rut import parse
from sii.simulator.faults import FaultInjector
from sii.simulator.traffic import LOGIN_PATH, Traffic
from sii.simulator.wsgi import Request

_SII_TZ = ZoneInfo("America/Santiago")


class SimulatorState:
    """What every route reads or changes, behind a lock: the socket server is threaded.

    Credentials: a RUT registered with register_credentials() (or POST /__sim__/credentials) logs in
    with exactly its clave. Any other valid RUT logs in with any non-empty clave except "wrong", so
    tests and demos can trigger the bad-credentials page without a control call.
    Sessions live in memory (token -> RUT body and login time) and end SESSION_SECONDS after their
    login, as the SII's do (its login wall answers them then). The fault rules keep their own lock.
    """

    SESSION_SECONDS = 2 * 3600  # [I] no source states the SII's own; integrators keep one up to 2 h

    def __init__(self, today: date | None = None) -> None:
        self._today = today
        self.faults = FaultInjector()
        self.traffic = Traffic()
        self._credentials: dict[int, str] = {}
        self._sessions: dict[str, tuple[int, float]] = {}
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def today(self) -> date:
        """The fixed day given at creation, else today in Chile (F29 filed, future months empty)."""
        return self._today or datetime.now(_SII_TZ).date()

    def reset(self) -> None:
        """Forget sessions, credentials, faults, request counts and traffic."""
        self.faults.clear()
        self.traffic.reset()
        with self._lock:
            self._credentials.clear()
            self._sessions.clear()
            self._hits.clear()

    # -- credentials and sessions ----------------------------------------------------------------

    def register_credentials(self, rut: str, clave: str) -> None:
        with self._lock:
            self._credentials[parse(rut).body] = clave

    def accepts(self, rut: int, clave: str) -> bool:
        with self._lock:
            registered = self._credentials.get(rut)
        return clave == registered if registered is not None else clave not in ("", "wrong")

    def open_session(self, rut: int) -> str:
        token = secrets.token_hex(16).upper()
        with self._lock:
            self._sessions[token] = (rut, time.time())
        self.traffic.session_opened(rut)
        return token

    def session_rut(self, request: Request) -> int | None:
        """The RUT body of the request's session; None without one, or once it expired."""
        with self._lock:
            rut, opened = self._sessions.get(request.cookies.get("TOKEN", ""), (None, 0.0))
        return rut if time.time() - opened < self.SESSION_SECONDS else None

    def expire_sessions(self) -> None:
        """End every session now, as the SII does after its own time (the next request meets the login wall)."""
        with self._lock:
            self._sessions.clear()

    def request_rut(self, request: Request) -> int | None:
        """The company a request is for: its session's, or the one a login names."""
        if request.path == LOGIN_PATH:
            rut = request.form.get("rut", "") if request.method == "POST" else ""
            return int(rut) if rut.isdigit() else None
        return self.session_rut(request)

    def end_session(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    # -- request counts --------------------------------------------------------------------------

    def count_request(self, path: str) -> None:
        with self._lock:
            self._hits[path] += 1

    def requests_to(self, target: str) -> int:
        """How many requests reached a path prefix ("/cgi_AUT2000/") or method name ("CAutInicio.cgi")."""
        with self._lock:
            hits = list(self._hits.items())
        return sum(n for path, n in hits if _targets(target, path))


def _targets(target: str, path: str) -> bool:
    return path.startswith(target) if target.startswith("/") else path.rsplit("/", 1)[-1] == target
