"""Test hooks under /__sim__/ (not part of the SII's contract): reset, credentials, faults, health."""

from collections.abc import Callable

from sii.rut import InvalidRut
from sii.simulator.state import SimulatorState
from sii.simulator.wsgi import Request, Response, json_response

PREFIX = "/__sim__/"


def handle(state: SimulatorState, request: Request) -> Response:
    handler = _HANDLERS.get((request.method, request.path.rstrip("/")))
    if handler is None:
        return json_response({"error": f"no control endpoint {request.method} {request.path}"}, status=404)
    try:
        return handler(state, request)
    except (InvalidRut, ValueError, TypeError, KeyError) as exc:
        return json_response({"error": str(exc)}, status=400)


def _body(request: Request) -> dict:
    body = request.json
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _reset(state: SimulatorState, request: Request) -> Response:
    state.reset()
    return json_response({"ok": True})


def _credentials(state: SimulatorState, request: Request) -> Response:
    body = _body(request)
    state.register_credentials(str(body["rut"]), str(body["clave"]))
    return json_response({"ok": True})


def _add_fault(state: SimulatorState, request: Request) -> Response:
    """{"path": "getResumen", "fault": "http:503", "times": 2, "rut": "76123456"}; times null = always."""
    body = _body(request)
    times = body.get("times", 1)
    state.faults.add(
        str(body["path"]),
        str(body["fault"]),
        times=None if times is None else int(times),
        rut=body.get("rut"),
    )
    return json_response({"ok": True, "faults": len(state.faults)})


def _faults(state: SimulatorState, request: Request) -> Response:
    return json_response({"faults": state.faults.rules()})


def _clear_faults(state: SimulatorState, request: Request) -> Response:
    """Every rule, or with ?rut=76123456 only that company's."""
    state.faults.clear(rut=request.query.get("rut"))
    return json_response({"ok": True, "faults": len(state.faults)})


def _traffic(state: SimulatorState, request: Request) -> Response:
    """Requests per second, logins and most requests at once per company (sii.simulator.traffic)."""
    return json_response(state.traffic.summary())


def _health(state: SimulatorState, request: Request) -> Response:
    return json_response({"status": "ok", "sessions": state.session_count(), "faults": len(state.faults)})


_HANDLERS: dict[tuple[str, str], Callable[[SimulatorState, Request], Response]] = {
    ("POST", PREFIX + "reset"): _reset,
    ("POST", PREFIX + "credentials"): _credentials,
    ("GET", PREFIX + "faults"): _faults,
    ("POST", PREFIX + "faults"): _add_fault,
    ("DELETE", PREFIX + "faults"): _clear_faults,
    ("GET", PREFIX + "health"): _health,
    ("GET", PREFIX + "traffic"): _traffic,
}
