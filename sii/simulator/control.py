"""Test hooks under /__sim__/ (not an SII contract): reset, credentials, faults, health."""

from typing import TYPE_CHECKING

from sii.rut import InvalidRut
from sii.simulator.wsgi import Request, Response, json_response

if TYPE_CHECKING:
    from sii.simulator.app import SiiSimulator


def handle(sim: "SiiSimulator", request: Request) -> Response:
    route = (request.method, request.path.rstrip("/"))
    handlers = {
        ("POST", "/__sim__/reset"): _reset,
        ("POST", "/__sim__/credentials"): _credentials,
        ("POST", "/__sim__/faults"): _add_fault,
        ("DELETE", "/__sim__/faults"): _clear_faults,
        ("GET", "/__sim__/health"): _health,
    }
    handler = handlers.get(route)
    if handler is None:
        return json_response({"error": f"no control endpoint {request.method} {request.path}"}, status=404)
    try:
        return handler(sim, request)
    except (InvalidRut, ValueError, TypeError, KeyError) as exc:
        return json_response({"error": str(exc)}, status=400)


def _body(request: Request) -> dict:
    body = request.json
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _reset(sim: "SiiSimulator", request: Request) -> Response:
    sim.reset()
    return json_response({"ok": True})


def _credentials(sim: "SiiSimulator", request: Request) -> Response:
    body = _body(request)
    sim.register_credentials(str(body["rut"]), str(body["clave"]))
    return json_response({"ok": True})


def _add_fault(sim: "SiiSimulator", request: Request) -> Response:
    """{"path": "getResumen", "fault": "http:503", "times": 2, "rut": "76123456"}; times null = always."""
    body = _body(request)
    times = body.get("times", 1)
    sim.faults.add(
        str(body["path"]),
        str(body["fault"]),
        times=None if times is None else int(times),
        rut=body.get("rut"),
    )
    return json_response({"ok": True, "faults": len(sim.faults)})


def _clear_faults(sim: "SiiSimulator", request: Request) -> Response:
    sim.faults.clear()
    return json_response({"ok": True})


def _health(sim: "SiiSimulator", request: Request) -> Response:
    return json_response({"status": "ok", "sessions": sim.session_count(), "faults": len(sim.faults)})
