"""Just enough WSGI: a parsed request, a response, and the exception that drops the connection."""

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl


class DropConnection(Exception):
    """Close the connection without any response (the SII's socket hang-up / IP block)."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    cookies: dict[str, str]
    body: bytes
    # Set by faults that change what a route serves rather than answer for it (e.g. bhe_count).
    overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: dict) -> "Request":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=environ.get("PATH_INFO", "/"),
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            headers=headers,
            cookies=_cookies(headers.get("cookie", "")),
            body=environ["wsgi.input"].read(length) if length else b"",
        )

    @property
    def method_name(self) -> str:
        """The last path segment: 'getResumen', 'CAutInicio.cgi', ..."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @cached_property
    def form(self) -> dict[str, str]:
        if "x-www-form-urlencoded" not in self.headers.get("content-type", ""):
            return {}
        return dict(parse_qsl(self.body.decode("latin-1"), keep_blank_values=True))

    @cached_property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def _cookies(header: str) -> dict[str, str]:
    # SimpleCookie silently drops the whole header on one odd cookie; the SII's names have dots.
    pairs = (part.strip().partition("=") for part in header.split(";") if "=" in part)
    return {name: value for name, _, value in pairs}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=iso-8859-1"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def status_line(self) -> str:
        reasons = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
        reasons |= {405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}
        return f"{self.status} {reasons.get(self.status, 'Status')}"

    def header_list(self) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body))), *self.headers]


def html(text: str, status: int = 200) -> Response:
    """SII CGI pages are iso-8859-1."""
    return Response(status=status, body=text.encode("iso-8859-1", errors="replace"))


def json_response(payload: object, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(status=status, body=body, content_type="application/json;charset=UTF-8")
