"""With the database unreachable, the API answers JSON 503 with Retry-After (never a 500 or a
page), the admin a line of text, /readyz "unavailable" and /healthz ok."""

import uuid

import pytest
from django.conf import settings
from django.db import connection

from tests.processes import free_port

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the outage played is a PostgreSQL server gone (a closed port); the embedded SQLite file has no server to lose, and make test runs this on PostgreSQL",
)
TOKEN = {"HTTP_AUTHORIZATION": "Token " + "k" * 64}
DETAIL = "The database is unavailable: try again in 5 seconds."
API_CALLS = [
    ("get", "/api/celery/tasks", None),
    ("get", f"/api/celery/tasks/{uuid.uuid4()}", None),
    ("post", "/api/celery/tasks/launch", {"task_type": "sii.sync_f29", "params": {"company_id": "1"}}),
    ("get", "/api/celery/runs", None),
    ("get", "/api/celery/stats", None),
]


@pytest.fixture
def database_down(django_db_blocker):
    """The default connection pointed at a port nothing listens on: every query fails to connect,
    as while PostgreSQL is down (the shared server itself keeps running)."""
    unreachable = {"HOST": "127.0.0.1", "PORT": str(free_port())}
    saved = {key: connection.settings_dict[key] for key in unreachable}
    connection.close()
    connection.settings_dict.update(unreachable)
    try:
        with django_db_blocker.unblock():
            yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


@pytest.fixture
def signed_in(client):
    """A session cookie: the request looks its session up in the database."""
    client.cookies[settings.SESSION_COOKIE_NAME] = "s" * 32
    return client


@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
def test_an_api_call_with_a_token_gets_a_json_503_with_retry_after(client, database_down, method, path, body):
    response = getattr(client, method)(path, body, content_type="application/json", **TOKEN)

    assert (response.status_code, response["Content-Type"]) == (503, "application/json")
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": DETAIL}


@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
def test_an_api_call_with_a_session_gets_the_same_json_503(signed_in, database_down, method, path, body):
    response = getattr(signed_in, method)(path, body, content_type="application/json")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json() == {"detail": DETAIL}


def test_the_admin_gets_a_plain_503_with_retry_after(signed_in, database_down):
    response = signed_in.get("/admin/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == DETAIL


def test_a_client_that_asks_for_json_gets_json_outside_the_api_too(signed_in, database_down):
    response = signed_in.get("/admin/", HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    assert response.json() == {"detail": DETAIL}


@pytest.mark.timeout(20)
def test_readyz_answers_503_unavailable_without_looking_up_who_asks(signed_in, database_down):
    response = signed_in.get("/readyz")

    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})


def test_healthz_stays_ok(signed_in, database_down):
    response = signed_in.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
