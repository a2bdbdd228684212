"""What reached the simulator, as a rehearsal measures it: when each request arrived (by SII
surface), each company's logins, and how many of a company's requests were in flight at once."""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

LOGIN_PATH = "/cgi_AUT2000/CAutInicio.cgi"
# Which SII host (the governor's surface) serves a path: zeusr's logins, loa's BHE, www4 the rest.
SURFACE_PREFIXES = (("/cgi_AUT2000/", "auth"), ("/cgi_IMT/", "bhe"))


def surface_of(path: str) -> str:
    return next((surface for prefix, surface in SURFACE_PREFIXES if path.startswith(prefix)), "rcv")


class Traffic:
    """Thread-safe counts of the SII routes' requests (the control hooks are not counted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._arrivals: list[tuple[float, str]] = []
            self._logins: Counter[int] = Counter()
            self._in_flight: Counter[int] = Counter()
            self._most_at_once: Counter[int] = Counter()

    @contextmanager
    def request(self, path: str, rut: int | None) -> Iterator[None]:
        """Count one request from arrival to answer; `rut`: the company it is for, when known."""
        with self._lock:
            self._arrivals.append((time.time(), path))
            if rut is not None:
                self._in_flight[rut] += 1
                self._most_at_once[rut] = max(self._most_at_once[rut], self._in_flight[rut])
        try:
            yield
        finally:
            if rut is not None:
                with self._lock:
                    self._in_flight[rut] -= 1

    def session_opened(self, rut: int) -> None:
        """A login the SII accepted (a refused or unanswered one opens no session)."""
        with self._lock:
            self._logins[rut] += 1

    def arrivals(self, path_prefix: str = "/") -> list[float]:
        """When each request to paths under `path_prefix` arrived (epoch seconds), in order."""
        with self._lock:
            return [arrival for arrival, path in self._arrivals if path.startswith(path_prefix)]

    def summary(self) -> dict:
        """Requests per 1-second window (epoch seconds) in all and per surface, logins and most
        requests at once per company."""
        with self._lock:
            windows = Counter(int(arrival) for arrival, _ in self._arrivals)
            by_surface: dict[str, Counter[int]] = {"auth": Counter(), "rcv": Counter(), "bhe": Counter()}
            for arrival, path in self._arrivals:
                by_surface[surface_of(path)][int(arrival)] += 1
            return {
                "requests": len(self._arrivals),
                "per_second": {str(second): count for second, count in sorted(windows.items())},
                "per_second_by_surface": {
                    surface: {str(second): n for second, n in sorted(counts.items())}
                    for surface, counts in by_surface.items()
                },
                "logins": {str(rut): n for rut, n in self._logins.items()},
                "most_at_once": {str(rut): n for rut, n in self._most_at_once.items()},
            }
