"""gunicorn's gthread worker, answering the requests it cannot parse in the API's JSON error shape."""

import json
import socket
from datetime import datetime
from http import HTTPStatus
from typing import Any

from gunicorn.http.errors import (
    ExpectationFailed,
    InvalidHeader,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
)
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

# Errors in what the app answered, not in what the client sent: gunicorn's own 500 for them.
APP_ERRORS = (InvalidResponseHeader, InvalidResponseHeaderName)
# RFC 9110's reason phrase, as gunicorn's; Python 3.11 still has the older "Request-URI Too Long".
REASONS = {HTTPStatus.REQUEST_URI_TOO_LONG: "URI Too Long"}


class JsonErrorsThreadWorker(ThreadWorker):
    """gthread, whose answers to requests it cannot parse are {"detail": ...} JSON, not HTML.

    gunicorn refuses an over-long request line (414), too many or too large headers (431) and
    malformed HTTP (400, or gunicorn's own 403/417/501) before Django sees the request, so the
    API's error handling never runs for them. The connection closes after the answer, as with
    gunicorn's: handle() returns False after handle_error, and the worker closes it gracefully
    (RFC 9112 section 9.6), so the client reads the answer before the close.
    """

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        if not isinstance(exc, ParseException) or isinstance(exc, APP_ERRORS):
            super().handle_error(req, client, addr, exc)
            return
        started, addr = datetime.now(), addr or ("", -1)  # no address: a unix socket
        status = client_error_status(exc)
        body = json.dumps({"detail": self.detail(exc, status)}).encode()
        self.log.warning("Invalid request from ip=%s: %s", addr[0], exc)
        if req is None and isinstance(exc, InvalidHeader):
            req = exc.req  # the request the header was in, when known, for the access log
        if req is not None:
            self._log_access(req, client, addr, status, len(body), started)
        try:
            write_nonblock(client, _head(status, len(body)) + body)
        except OSError:
            self.log.debug("Failed to send error message.")

    def detail(self, exc: ParseException, status: HTTPStatus) -> str:
        """The sentence for the client, naming the limit it went past."""
        cfg = self.cfg
        if isinstance(exc, LimitRequestLine):
            # max_size is the limit gunicorn applied (its setting, capped at 8190).
            return f"Request line too long: at most {exc.max_size or cfg.limit_request_line} bytes."
        if isinstance(exc, LimitRequestHeaders):
            return (
                f"Request header fields too large: at most {cfg.limit_request_fields} fields "
                f"of at most {cfg.limit_request_field_size} bytes each."
            )
        return f"{_reason(status)}: {str(exc)[:200]}"

    def _log_access(
        self, req: Any, client: socket.socket, addr: Any, status: HTTPStatus, length: int, started: datetime
    ) -> None:
        environ = default_environ(req, client, self.cfg)
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
        response = Response(req, client, self.cfg)
        response.status, response.response_length = f"{status.value} {_reason(status)}", length
        self.log.access(response, req, environ, datetime.now() - started)


def client_error_status(exc: ParseException) -> HTTPStatus:
    """gunicorn 27's statuses: 414 and 431 for the limits (RFC 9110 section 15.5.15, RFC 6585
    section 5), an error's own where it carries one (501 for an unknown transfer coding, RFC 9112
    section 6.1; 403 for a PROXY line from an untrusted address), 417 for an Expect it cannot
    meet, else 400 (also for a bad PROXY v2 header, which gunicorn answers 500)."""
    if isinstance(exc, LimitRequestLine):
        return HTTPStatus.REQUEST_URI_TOO_LONG
    if isinstance(exc, LimitRequestHeaders):
        return HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    if isinstance(exc, ExpectationFailed):
        return HTTPStatus.EXPECTATION_FAILED
    return HTTPStatus(getattr(exc, "code", HTTPStatus.BAD_REQUEST))


def _reason(status: HTTPStatus) -> str:
    return REASONS.get(status, status.phrase)


def _head(status: HTTPStatus, length: int) -> bytes:
    return (
        f"HTTP/1.1 {status.value} {_reason(status)}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode("latin-1")
