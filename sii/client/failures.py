"""The one place where SII answers and transport failures become typed errors (sii.client.errors)."""

import json
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import SupportsInt

import httpx

from sii.client.errors import (
    SiiBadCredentials,
    SiiConnectionError,
    SiiError,
    SiiNotAuthorized,
    SiiRejected,
    SiiTimeout,
    SiiUnavailable,
)
from sii.client.types import JsonObject

BAD_CREDENTIAL_TEXTS = (
    "la clave tributaria ingresada no es correcta",
    "clave tributaria incorrecta",
    "transaccion rechazada",
)
UNAVAILABLE_TEXT = "por el momento no se puede responder"
# Queue-it waiting rooms and maintenance pages: the SII is busy, not refusing us.
QUEUE_TEXTS = ("queue-it", "queue.sii.cl", "sala de espera", "mantencion")
LOGIN_WALL_MARKERS = ("ingresorutclave", "cautinicio.cgi", "/aut2000/")
TOKEN_INVALID_TEXT = "el token no es valido"  # noqa: S105 (an SII message, not a secret)
NOT_AUTHORIZED_TEXT = "no esta autorizado"


class SessionLost(Exception):
    """Internal signal: the SII answered with its login wall; the client logs in again once."""


def normalized(text: str) -> str:
    """Lower case without accents, so 'Transacción' matches 'transaccion'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def transport_error(exc: httpx.TransportError, what: str) -> SiiError:
    if isinstance(exc, httpx.TimeoutException):
        return SiiTimeout(f"{what}: the SII did not answer in time ({type(exc).__name__}).")
    return SiiConnectionError(f"{what}: connection failed: {exc or type(exc).__name__}")


def check_status(response: httpx.Response, what: str, *, session_surface: bool) -> None:
    """Map HTTP status codes and redirects; session_surface: a login wall there means 'log in again'."""
    status = response.status_code
    if response.is_redirect:
        _check_redirect(response.headers.get("location", ""), what, session_surface)
    elif status >= 500:
        raise SiiUnavailable(f"{what}: HTTP {status} from the SII.")
    elif status == 401 and session_surface:
        raise SessionLost
    elif status in (401, 403):
        raise SiiNotAuthorized(f"{what}: HTTP {status} from the SII.")
    elif status >= 400:
        raise SiiRejected(f"{what}: HTTP {status} from the SII.")


def _check_redirect(location: str, what: str, session_surface: bool) -> None:
    target = normalized(location)
    if session_surface and any(marker in target for marker in LOGIN_WALL_MARKERS):
        raise SessionLost
    if any(text in target for text in QUEUE_TEXTS):
        raise SiiUnavailable(f"{what}: the SII sent us to a waiting room.")
    if session_surface:
        raise SiiRejected(f"{what}: unexpected redirect to {location!r}.")


def check_login(response: httpx.Response, has_token: bool) -> None:
    """The login page texts decide; without them, no TOKEN cookie means the login did not happen."""
    page = normalized(response.text)
    for text in BAD_CREDENTIAL_TEXTS:
        if text in page:
            raise SiiBadCredentials(f"Login rejected by the SII: {_sentence(page, text)}")
    if UNAVAILABLE_TEXT in page:
        raise SiiUnavailable("Login: 'Por el momento no se puede responder a sus requerimientos'.")
    if has_token:
        return
    location = normalized(response.headers.get("location", ""))
    if any(text in page or text in location for text in QUEUE_TEXTS):
        raise SiiUnavailable("Login: the SII answered with a waiting-room or maintenance page.")
    raise SiiRejected("Login: the SII answered without a session (no TOKEN cookie).")


def _sentence(page: str, text: str) -> str:
    start = page.index(text)
    return page[start : start + 120].split("<")[0].strip()


def json_body(response: httpx.Response, what: str) -> JsonObject:
    """A www4 JSON call answered with HTML is the login wall (the session is gone)."""
    if "html" in response.headers.get("content-type", "").lower():
        raise SessionLost
    try:
        body = json.loads(response.content)
    except ValueError:
        raise SiiRejected(f"{what}: the SII answered with something that is not JSON.") from None
    if not isinstance(body, dict):
        raise SiiRejected(f"{what}: the SII answered with an unexpected JSON shape.")
    return body


def check_namespace(body: JsonObject, namespace: str, what: str) -> None:
    echoed = (body.get("metaData") or {}).get("namespace")
    if echoed is not None and echoed != namespace:
        raise SiiRejected(f"{what}: the answer is for namespace {echoed!r}, not {namespace!r}.")


# respEstado.codRespuesta on getResumen and getDetalle*: 3 "sin movimientos" (data: null) and 99
# (e.g. "Periodo consultado no valido") are an empty answer; 98 "requiere redireccion" means the
# session no longer serves this app (log in again once).
RCV_EMPTY_CODES = (3, 99)
RCV_RELOGIN_CODES = (98,)


def rcv_rows(body: JsonObject, what: str) -> list[JsonObject]:
    """The rows of an RCV answer; `what` names the call and the period in every error."""
    if "respEstado" not in body and body.get("errorMsg"):
        raise SiiRejected(f"{what}: {body['errorMsg']}")  # e.g. {"errorMsg": "Acceso no autorizado!"}
    estado = body.get("respEstado") or {}
    code, message = _int_or_none(estado.get("codRespuesta")), estado.get("msgeRespuesta")
    if code == 0:
        return _row_list(body.get("data", body.get("datos")), what)
    if code in RCV_RELOGIN_CODES or (code == 99 and TOKEN_INVALID_TEXT in normalized(str(message))):
        raise SessionLost
    if code in RCV_EMPTY_CODES:
        return []
    detail = message or estado.get("codError") or "no message"
    raise SiiRejected(f"{what}: codRespuesta {estado.get('codRespuesta')}: {detail}")


def f29_rows(body: JsonObject, what: str) -> list[JsonObject]:
    errors = (body.get("metaData") or {}).get("errors") or []
    texts = [str(e.get("descripcion", e) if isinstance(e, dict) else e) for e in errors]
    if any(NOT_AUTHORIZED_TEXT in normalized(text) for text in texts):
        raise SiiNotAuthorized(f"{what}: {'; '.join(texts)}")
    if texts:
        raise SiiRejected(f"{what}: {'; '.join(texts)}")
    return _row_list(body.get("data"), what)


def _row_list(data: object, what: str) -> list[JsonObject]:
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise SiiRejected(f"{what}: 'data' is not a list of rows.")
    return data


def _int_or_none(value: object) -> int | None:
    if not isinstance(value, str | SupportsInt):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_bhe_page(html: str, what: str) -> None:
    """A page without the report's JS maps is the login wall, the wrong-principal page or an error."""
    if "xml_values[" in html or "arr_informe_mensual[" in html:
        return
    page = normalized(html)
    if any(marker in page for marker in LOGIN_WALL_MARKERS):
        raise SessionLost
    if "autorizad" in page:
        raise SiiNotAuthorized(f"{what}: the SII did not show the report to this session's RUT.")
    raise SiiRejected(f"{what}: the SII answered a page that is not the report: {_text_of(html)!r}")


def _text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", page)).strip()[:160]


@contextmanager
def unexpected_rows(what: str) -> Iterator[None]:
    """Rows that break the documented shape (a bad date, a missing key) are a permanent failure:
    the whole period fails, naming the row and the field, never storing the rest as complete."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:
        raise SiiRejected(f"{what}: unexpected row in the SII answer ({exc}).") from exc
