"""/healthz answers while the process lives; /readyz checks the database, broker and workers,
telling anyone whether the service is ready and only staff why."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(username="ops", is_staff=True))
    return client


def test_healthz_answers_ok_without_touching_any_dependency(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_healthz_answers_head_for_load_balancers_that_use_it(client):
    assert client.head("/healthz").status_code == 200


@pytest.mark.e2e
def test_readyz_is_ok_with_the_database_the_broker_and_a_worker_each_timed(staff, celery_worker_process):
    response = staff.get("/readyz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "broker", "workers"}
    assert all(check["ok"] and check["latency_ms"] >= 0 for check in checks.values())
    assert checks["workers"]["detail"].endswith(" answered")


@pytest.mark.e2e
def test_readyz_tells_anonymous_callers_only_that_it_is_ready(client, celery_worker_process):
    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.timeout(20)
def test_readyz_answers_503_naming_the_failed_check_to_staff_when_the_broker_is_down(
    staff, unreachable_broker
):
    response = staff.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["workers"]["ok"] is False


@pytest.mark.timeout(20)
@pytest.mark.parametrize("user", [None, {"username": "clerk"}])
def test_readyz_answers_503_without_details_to_anyone_but_staff(client, unreachable_broker, user):
    if user:
        client.force_login(UserFactory(**user))

    response = client.get("/readyz")

    # No worker names, no broker address or error text for the unauthenticated internet.
    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})
