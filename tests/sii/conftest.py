"""Fixtures for the SII client and simulator tests: a simulator in process or on a real socket."""

from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest

from sii.client.http import SiiClient, SiiClientConfig
from sii.metrics import sii_call_count, sii_request_time
from sii.rut import Rut, check_digit
from sii.simulator.app import SiiSimulator
from sii.simulator.server import serve_in_thread

TODAY = date(2025, 7, 15)
PASSWORD = "clave-Secreta-9f3"
SIM_URL = "http://sii.test"
SIM_CONFIG = SiiClientConfig(
    base_urls=dict.fromkeys(("auth", "rcv", "bhe"), SIM_URL), timeout=5.0, request_interval=0,
    on_call=sii_call_count, on_request=sii_request_time,
)  # fmt: skip


def rut_of(body: int) -> Rut:
    return Rut(body=body, dv=check_digit(body))


@pytest.fixture
def company_rut() -> Rut:
    # Not `company`: tests/conftest.py's `company` is a Company row that other tests here use.
    return rut_of(76123456)


@pytest.fixture
def sim() -> SiiSimulator:
    return SiiSimulator(today=TODAY)


@pytest.fixture
def make_client(sim: SiiSimulator, company_rut: Rut) -> Iterator[Callable[..., SiiClient]]:
    """Build SiiClients wired to the in-process simulator; each is closed after the test."""
    clients: list[SiiClient] = []

    def make(**overrides: object) -> SiiClient:
        options: dict = {
            "rut": company_rut,
            "password": PASSWORD,
            "config": SIM_CONFIG,
            "transport": sim.transport(),
        }
        client = SiiClient(**(options | overrides))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def sii_client(make_client: Callable[..., SiiClient]) -> SiiClient:
    return make_client()


@pytest.fixture
def live_sim(sim: SiiSimulator) -> Iterator[str]:
    """The same simulator on a free local port; yields its base URL."""
    server, base_url = serve_in_thread(sim)
    yield base_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def raw(sim: SiiSimulator) -> Iterator[httpx.Client]:
    """A plain httpx client on the in-process simulator, for wire-level tests."""
    with httpx.Client(transport=sim.transport(), base_url=SIM_URL) as http:
        yield http
