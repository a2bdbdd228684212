"""The SII simulator's fault switches, set and cleared over its control endpoint (/__sim__/faults)."""

import httpx
from django.conf import settings

from sii.models import Company

CONTROL_TIMEOUT = 3.0  # seconds: an operator is waiting on the page


class SimulatorControlError(Exception):
    """The simulator could not be reached, or refused the request; the message says which."""


def simulator_in_use() -> bool:
    return settings.SII_MODE == "simulator"


def simulator_faults_list() -> list[dict]:
    """The fault rules waiting to fire: path, fault, times (None = always), rut (None = any company)."""
    return _call("GET", "faults")["faults"]


def simulator_fault_add(*, company: Company, path: str, fault: str, times: int | None) -> None:
    """Make the simulator answer `company`'s requests to `path` with `fault`, `times` times (None: always)."""
    _call("POST", "faults", json={"path": path, "fault": fault, "times": times, "rut": company.rut_body})


def simulator_faults_clear(*, company: Company | None = None) -> None:
    """Clear one company's faults, or every fault."""
    _call("DELETE", "faults", params={"rut": company.rut_body} if company else None)


def _call(method: str, endpoint: str, **options) -> dict:
    url = f"{settings.SII_SIMULATOR_URL}/__sim__/{endpoint}"
    try:
        response = httpx.request(method, url, timeout=CONTROL_TIMEOUT, **options)
    except httpx.HTTPError as exc:
        where = settings.SII_SIMULATOR_URL
        raise SimulatorControlError(f"The SII simulator at {where} does not answer ({exc}).") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict):
        detail = body.get("error") if isinstance(body, dict) else None
        raise SimulatorControlError(f"The SII simulator refused: {detail or f'HTTP {response.status_code}'}.")
    return body
