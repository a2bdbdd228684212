"""Every operation in the OpenAPI schema documents the answers no view gives: gunicorn's 414 and
431 for an over-long request line or headers, and 503 with Retry-After for a database outage."""

import pytest
import yaml
from django.core.management import call_command


@pytest.fixture(scope="module")
def operations(django_db_setup, django_db_blocker, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    paths = yaml.safe_load(out.read_text())["paths"]
    return [operation for path in paths.values() for operation in path.values()]


@pytest.mark.parametrize("status", ["414", "431", "503"])
def test_every_operation_documents_the_edge_errors_in_the_error_shape(operations, status):
    answers = [operation["responses"][status] for operation in operations]

    error_shape = {"$ref": "#/components/schemas/ErrorDetail"}
    assert all(answer["content"]["application/json"]["schema"] == error_shape for answer in answers)
    assert all(answer["description"] for answer in answers)


def test_the_outage_503_documents_its_retry_after_header(operations):
    headers = [operation["responses"]["503"]["headers"] for operation in operations]

    assert all(h["Retry-After"]["schema"] == {"type": "integer"} for h in headers)


def test_the_views_own_errors_stay_in_status_order(operations):
    launch = next(op for op in operations if op["operationId"] == "api_celery_tasks_launch_create")

    assert list(launch["responses"]) == sorted(launch["responses"])
    assert {"202", "409", "422", "429"} <= set(launch["responses"])
