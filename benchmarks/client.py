"""HTTP load for one phase: wrk when it is on PATH (Lua scripts for bodies and headers), else a
Python client (threads, one keep-alive http.client connection each). Both report the same figures."""

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Load:
    """What one phase of requests did."""

    requests: int
    seconds: float
    median_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Request:
    url: str
    method: str = "GET"
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()


def client_name(preferred: str = "auto") -> str:
    """wrk when asked for (or "auto") and installed, else the Python client."""
    return "wrk" if preferred in ("auto", "wrk") and shutil.which("wrk") else "python"


def load_run(request: Request, *, connections: int, seconds: float, client: str) -> Load:
    """`connections` clients sending `request` back to back for `seconds`."""
    if client == "wrk":
        return _wrk(request, connections=connections, seconds=seconds)
    return _python(request, connections=connections, seconds=seconds)


# wrk ----------------------------------------------------------------------------------------------
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests": %d, "duration_us": %d, "median_us": %d, "errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _lua(request: Request) -> str:
    lines = [f"wrk.method = {_lua_string(request.method)}", f"wrk.body = {_lua_string(request.body)}"]
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in request.headers]
    return "\n".join(lines) + _DONE


def _lua_string(text: str) -> str:
    return f"[==[{text}]==]"


def _wrk(request: Request, *, connections: int, seconds: float) -> Load:
    with tempfile.TemporaryDirectory(prefix="sii-bench-wrk-") as folder:
        script = Path(folder) / "request.lua"
        script.write_text(_lua(request))
        command = [
            "wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(script), request.url,
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)  # noqa: S603
    figures = _wrk_figures(output.stdout, output.stderr)
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        median_ms=figures["median_us"] / 1000,
        errors=figures["errors"],
    )


def _wrk_figures(stdout: str, stderr: str) -> dict:
    """The JSON line the done() hook printed."""
    lines = [line for line in stdout.splitlines() if line.startswith('{"requests"')]
    if not lines:
        raise RuntimeError(f"wrk printed no figures:\n{stdout}\n{stderr}")
    return json.loads(lines[-1])


# Python -------------------------------------------------------------------------------------------
def _python(request: Request, *, connections: int, seconds: float) -> Load:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    threads = [
        threading.Thread(target=_python_loop, args=(request, deadline, latencies, errors, lock))
        for _ in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    median = statistics.median(latencies) * 1000 if latencies else 0.0
    return Load(requests=len(latencies), seconds=elapsed, median_ms=median, errors=errors[0])


def _python_loop(request: Request, deadline: float, latencies: list, errors: list, lock) -> None:
    parts = urlsplit(request.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = dict(request.headers)
    mine: list[float] = []
    failed = 0
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        try:
            status = http_call(connection, request.method, path, request.body, headers)[0]
        except (OSError, http.client.HTTPException):
            connection.close()
            status = 0
        mine.append(time.perf_counter() - began)
        failed += status >= 400 or status == 0
    connection.close()
    with lock:
        latencies.extend(mine)
        errors[0] += failed


def http_call(
    connection: http.client.HTTPConnection, method: str, path: str, body: str = "", headers=None
) -> tuple[int, bytes]:
    """One request on a keep-alive connection: its status and body."""
    connection.request(method, path, body=body.encode() if body else None, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


def spaced_samples(request: Request, *, count: int, every: float) -> list[float]:
    """`count` requests, one every `every` seconds: milliseconds each. Each opens its connection,
    as a poller this slow would (servers close idle keep-alive connections within seconds)."""
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    samples = []
    for n in range(count):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        began = time.perf_counter()
        try:
            status, body = http_call(connection, request.method, path, request.body, dict(request.headers))
        finally:
            connection.close()
        samples.append((time.perf_counter() - began) * 1000)
        if status != 200:
            raise RuntimeError(f"{request.method} {request.url} answered {status}: {body[:200]!r}")
        if n < count - 1:
            time.sleep(max(0.0, every - (time.perf_counter() - began)))
    return samples
