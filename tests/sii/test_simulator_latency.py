"""The simulator's latency: every SII route answers later (not the control hooks), the same request
always waits the same, concurrent requests wait side by side, and only `make run` turns it on."""

import io
import re
import threading

import httpx
import pytest
from django.core.management import CommandError, call_command

from sii.management.commands import run_sii_simulator
from sii.simulator import latency as latency_module
from sii.simulator.app import SiiSimulator
from sii.simulator.latency import NO_LATENCY, Latency
from sii.simulator.server import serve_in_thread
from sii.simulator.wsgi import Request
from tests.processes import ROOT
from tests.sii.conftest import SIM_URL

LOGIN = "/cgi_AUT2000/CAutInicio.cgi"


def request(path: str = LOGIN, body: bytes = b"rut=76123456&dv=0") -> Request:
    return Request(method="POST", path=path, query={}, headers={}, cookies={}, body=body)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The waits the latency asks for, instead of sleeping them."""
    asked: list[float] = []
    monkeypatch.setattr(latency_module.time, "sleep", asked.append)
    return asked


def test_no_latency_by_default():
    assert SiiSimulator().latency == NO_LATENCY
    assert NO_LATENCY.for_request(request()) == 0


def test_each_request_waits_within_half_the_latency_either_side_and_always_the_same():
    latency = Latency(1.0)
    bodies = [f"rut=761234{n:02d}".encode() for n in range(50)]

    delays = [latency.for_request(request(body=body)) for body in bodies]

    assert all(0.5 <= delay <= 1.5 for delay in delays)
    assert len(set(delays)) > 40  # spread, not one fixed wait
    assert delays == [latency.for_request(request(body=body)) for body in bodies]


def test_without_jitter_every_request_waits_the_latency():
    assert Latency(0.2, jitter=0).for_request(request()) == 0.2


@pytest.mark.parametrize(
    ("seconds", "jitter", "message"),
    [(-0.1, 0.5, "latency must be 0 or more"), (0.2, 1.5, "jitter must be"), (0.2, -0.1, "jitter must be")],
)
def test_a_negative_latency_or_a_jitter_outside_0_to_1_is_refused(seconds, jitter, message):
    with pytest.raises(ValueError, match=message):
        Latency(seconds, jitter=jitter)


def test_sii_routes_wait_and_control_hooks_do_not(waits):
    simulator = SiiSimulator(latency=Latency(0.2, jitter=0))
    with httpx.Client(transport=simulator.transport(), base_url=SIM_URL) as client:
        client.get("/__sim__/health")
        client.delete("/__sim__/faults")
        assert waits == []

        client.post(LOGIN, data={"rut": "76123456", "dv": "0", "clave": "x"})

    assert waits == [0.2]


def test_concurrent_requests_wait_side_by_side_not_one_after_the_other(monkeypatch):
    # Both requests must be inside their wait at the same time for the barrier to open: a
    # simulator that served one request at a time (or slept under a lock) would break it.
    both_waiting = threading.Barrier(2, timeout=10)
    monkeypatch.setattr(latency_module.time, "sleep", lambda seconds: both_waiting.wait())
    server, base_url = serve_in_thread(SiiSimulator(latency=Latency(0.2)))
    answers: list[int] = []

    def log_in(rut: str, dv: str) -> None:
        with httpx.Client(base_url=base_url, timeout=20) as client:
            answers.append(client.post(LOGIN, data={"rut": rut, "dv": dv, "clave": "x"}).status_code)

    try:
        threads = [
            threading.Thread(target=log_in, args=spec) for spec in (("76086428", "5"), ("77879240", "0"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        server.shutdown()

    assert not both_waiting.broken
    assert answers == [302, 302]


@pytest.fixture
def stopped_at_once(monkeypatch):
    """The command starts serving, then finds its stop signal already given."""
    stop = threading.Event()
    stop.set()
    monkeypatch.setattr(run_sii_simulator, "_stop_on_signals", lambda: stop)


def serve(*args: str) -> str:
    out = io.StringIO()
    call_command("run_sii_simulator", "--port", "0", *args, stdout=out)
    return out.getvalue()


def test_the_command_takes_its_latency_from_the_setting_or_the_option(stopped_at_once, settings):
    settings.SII_SIMULATOR_LATENCY = 0.2

    assert "(0.2 s latency per request)" in serve()
    assert "(0 s latency per request)" in serve("--latency", "0")


def test_the_command_refuses_a_negative_latency(stopped_at_once):
    with pytest.raises(CommandError, match="latency must be 0 or more seconds"):
        serve("--latency", "-1")


def test_latency_is_off_by_default_and_make_run_turns_it_on(settings):
    makefile = (ROOT / "Makefile").read_text()

    assert settings.SII_SIMULATOR_LATENCY == 0  # tests run without SII_SIMULATOR_LATENCY
    assert re.search(r"^run: export SII_SIMULATOR_LATENCY \?= 0\.2$", makefile, re.MULTILINE)
