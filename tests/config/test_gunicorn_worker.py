"""gunicorn (the project's gunicorn.conf.py) answers what it cannot parse in the API's JSON error
shape, naming the limit, and closes the connection; raw requests over a socket, as clients send them."""

import json
import socket

import pytest
from django.conf import settings

from tests.processes import WebServer, free_port, worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def web(django_db_setup, tmp_path_factory) -> WebServer:
    """gunicorn started as `make run` and compose start it (one process), on a free port."""
    home = tmp_path_factory.mktemp("gunicorn")
    env = worker_env(database=settings.DATABASES["default"], simulator_url="http://127.0.0.1:1")
    # Its own var/: the control socket is not shared with another gunicorn.
    server = WebServer(
        env={**env, "VAR_DIR": str(home / "var")}, port=free_port(), log_path=home / "web.log",
        gunicorn=True, workers=1,
    )  # fmt: skip
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def exchange(web: WebServer, request: bytes) -> list[tuple[str, dict[str, str], bytes]]:
    """Send `request` as is and read every answer until the server closes the connection (a
    server that kept it open would time the read out): each as status line, headers, body."""
    port = int(web.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b"".join(iter(lambda: sock.recv(65536), b""))
    answers = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
        length = int(headers["content-length"])
        answers.append((status, headers, rest[:length]))
        received = rest[length:]
    return answers


def the_only_answer(web: WebServer, request: bytes) -> tuple[str, dict[str, str], dict]:
    [(status, headers, body)] = exchange(web, request)
    assert (headers["content-type"], headers["connection"]) == ("application/json", "close")
    return status, headers, json.loads(body)


def test_an_over_long_request_line_gets_a_json_414_naming_the_limit(web):
    line = b"GET /api/celery/tasks?q=" + b"a" * 5000 + b" HTTP/1.1\r\n"

    status, _, body = the_only_answer(web, line + b"Host: localhost\r\n\r\n")

    assert status == "HTTP/1.1 414 URI Too Long"
    assert body == {"detail": "Request line too long: at most 4094 bytes."}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(b"X-Big: " + b"b" * 9000 + b"\r\n", id="a header over 8190 bytes"),
        pytest.param(b"".join(b"X-H%d: 1\r\n" % n for n in range(101)), id="over 100 headers"),
    ],
)
def test_over_large_or_too_many_headers_get_a_json_431_naming_the_limits(web, headers):
    request = b"GET /api/celery/tasks HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n"

    status, _, body = the_only_answer(web, request)

    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert body == {
        "detail": "Request header fields too large: at most 100 fields of at most 8190 bytes each."
    }


def test_a_malformed_request_gets_a_json_400_saying_what_is_wrong(web):
    status, _, body = the_only_answer(web, b"GARBAGE\r\n\r\n")

    assert status == "HTTP/1.1 400 Bad Request"
    assert body == {"detail": "Bad Request: Invalid HTTP request line: 'GARBAGE'"}


def test_a_kept_alive_connection_is_answered_then_closed_after_an_over_long_request_line(web):
    healthz = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
    too_long = b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"

    answers = exchange(web, healthz + too_long + healthz)

    # The third request is never read: the connection closes after the 414.
    assert [(status, json.loads(body)) for status, _, body in answers] == [
        ("HTTP/1.1 200 OK", {"status": "ok"}),
        ("HTTP/1.1 414 URI Too Long", {"detail": "Request line too long: at most 4094 bytes."}),
    ]
