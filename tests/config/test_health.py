"""/healthz answers while the process lives; /readyz checks the database, broker and workers."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_without_touching_any_dependency(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.e2e
def test_readyz_is_ok_with_the_database_the_broker_and_a_worker_each_timed(client, celery_worker_process):
    response = client.get("/readyz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "broker", "workers"}
    assert all(check["ok"] and check["latency_ms"] >= 0 for check in checks.values())
    assert checks["workers"]["detail"].endswith(" answered")


@pytest.mark.timeout(20)
def test_readyz_answers_503_naming_the_failed_check_when_the_broker_is_down(client, unreachable_broker):
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["workers"]["ok"] is False
