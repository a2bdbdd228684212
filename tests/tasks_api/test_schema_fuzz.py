"""The OpenAPI schema says what the API does: Schemathesis fuzzes the API in-process against it,
with every check, and the launch body's schema is as strict as the launch's validation."""

import re
import uuid

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from knox.models import AuthToken

from sii.models import Company
from tasks_api.registry import catalog
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

# Loaded once, at collection: reading the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


@pytest.fixture(autouse=True)
def keep_the_test_connection(settings):
    """Requests must not close the test's connection after each one (Django's test client does
    the same): its transaction never commits, so no launch is ever published to a broker."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Every launch should reach validation: the throttle has its own tests.
    settings.TASKS_API_LAUNCH_RATE = "100000/min"
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(operator) -> str:
    _, key = AuthToken.objects.create(user=operator, expiry=None)
    return key


@schema.parametrize()
@settings(
    # Bounded, and the same examples every run: a failure here reproduces, it does not flicker.
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_its_schema_says(case, token):
    with_its_company(case)
    with_a_fresh_idempotency_key(case)
    case.call_and_validate(headers={"Authorization": f"Token {token}"})


def with_its_company(case) -> None:
    """A schema-valid launch names a company that exists: the launch refuses an unknown one (422),
    which no schema can say."""
    params = case.body.get("params") if isinstance(case.body, dict) else None
    company_id = params.get("company_id") if isinstance(params, dict) else None
    try:
        pk = uuid.UUID(company_id) if isinstance(company_id, str) else None
    except ValueError:
        return
    if pk is not None and not Company.objects.filter(pk=pk).exists():
        CompanyFactory(id=pk)


def with_a_fresh_idempotency_key(case) -> None:
    """A valid Idempotency-Key is made unique: the same key sent before with another body answers
    422 (tests/tasks_api/test_idempotency.py), which no schema can say. Invalid keys stay."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(r"[!-~]{1,255}", key):
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


@pytest.fixture
def components() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


def envelope(components: dict, task_type: str) -> dict:
    ref = components["TaskLaunchRequest"]["discriminator"]["mapping"][task_type]
    return components[ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize(
    ("task_type", "required"),
    [
        ("sii.sync_documents", ["task_type", "params"]),
        ("sii.sync_f29", ["task_type", "params"]),
        ("sii.sync_documents_all_companies", ["task_type"]),
        ("sii.sync_f29_all_companies", ["task_type"]),
    ],
)
def test_params_are_required_in_the_schema_exactly_when_the_task_type_has_required_params(
    components, task_type, required
):
    assert sorted(envelope(components, task_type)["required"]) == sorted(required)


def test_launch_bodies_and_their_params_admit_no_other_property_as_the_api_refuses_them(components):
    for task_type in catalog():
        body = envelope(components, task_type)
        params = components[body["properties"]["params"]["$ref"].rsplit("/", 1)[-1]]
        assert (body["additionalProperties"], params["additionalProperties"]) == (False, False)


def test_the_launch_body_is_required_and_every_refusal_is_documented():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/celery/tasks/launch"]["post"]

    assert operation["requestBody"]["required"] is True
    assert " ".join(sorted(operation["responses"])) == "202 400 401 403 409 413 414 415 422 429 431 500 503"


def test_the_schema_lists_the_years_a_sync_accepts(components):
    year = components["SyncF29AllCompaniesParams"]["properties"]["year"]
    years = components[year["allOf"][0]["$ref"].rsplit("/", 1)[-1]]  # drf-spectacular names enums

    assert years["enum"] == [str(y) for y in range(2000, timezone.localdate().year + 1)]
    assert year["pattern"] == "^[0-9]{4}$"
