"""Bad input never makes the API answer 500 or an HTML page: every refusal is JSON {"detail": ...}."""

import json

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tasks_api.api import exceptions
from tasks_api.models import TaskLaunch
from tests.tasks_api.conftest import client_for, user_in

pytestmark = pytest.mark.django_db
TASKS, LAUNCH, TASK, STATS = (
    "/api/celery/tasks", "/api/celery/tasks/launch", "/api/celery/tasks/some-id", "/api/celery/stats",
)  # fmt: skip
COMPANY_ID = "123e4567-e89b-12d3-a456-426614174000"
METHODS = ["get", "head", "options", "post", "put", "patch", "delete", "trace"]
# What each path answers to, for a signed-in operator; any other method is a 405.
ROUTED = {TASKS: {"get", "head"}, LAUNCH: {"post"}, TASK: {"get", "head", "delete"}, STATS: {"get", "head"}}


def send(client, method: str, path: str, **extra):
    return getattr(client, method)(path, **extra)


def assert_json_detail(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if response.request["REQUEST_METHOD"] != "HEAD":
        assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ROUTED)
def test_every_method_on_every_path_asks_anonymous_callers_to_authenticate(method, path):
    response = send(APIClient(), method, path)

    assert_json_detail(response, 401)


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"get", "head", "options", "post", "delete"}))
@pytest.mark.parametrize("path", ROUTED)
def test_an_unsupported_method_answers_405_with_the_allowed_ones(api, method, path):
    response = send(api, method, path)

    assert_json_detail(response, 405)
    assert set(response["Allow"].lower().split(", ")) == ROUTED[path] | {"options"}


@pytest.mark.parametrize("path", [TASKS, TASK, STATS])
def test_post_where_only_reads_are_routed_answers_405(api, path):
    assert_json_detail(api.post(path, {}, format="json"), 405)


@pytest.mark.parametrize("path", [TASKS, LAUNCH, STATS])
def test_delete_where_nothing_is_revoked_answers_405(api, path):
    assert_json_detail(api.delete(path), 405)


def test_get_and_head_on_the_launch_route_answer_405_not_a_status(api):
    for method in ("get", "head"):
        response = send(api, method, LAUNCH)
        assert_json_detail(response, 405)
        assert response["Allow"] == "POST, OPTIONS"


@pytest.mark.parametrize("path", [TASKS, TASK, STATS])
def test_head_answers_like_get_without_a_body(api, path):
    response = api.head(path)

    assert (response.status_code, response.content) == (200, b"")


@pytest.mark.parametrize("path", ROUTED)
def test_options_answers_the_view_s_metadata_to_signed_in_users(api, path):
    response = api.options(path)

    assert response.status_code == 200
    assert response.json()["renders"] == ["application/json"]


def test_a_user_without_permissions_is_refused_403_on_routed_methods(db):
    nobody = client_for(user_in(None, username="nobody"))

    assert_json_detail(nobody.get(TASKS), 403)
    assert_json_detail(nobody.post(LAUNCH, {"task_type": "sii.sync_f29"}, format="json"), 403)
    assert_json_detail(nobody.delete(TASK), 403)


@pytest.mark.parametrize("path", ["/api/celery/nothing", "/api/celery/tasks/a/b", "/api/other", "/api/"])
def test_an_unknown_api_path_answers_404_json(api, path):
    assert_json_detail(api.get(path), 404)


def test_an_unknown_path_outside_the_api_keeps_django_s_html_page(client):
    response = client.get("/nothing-here")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [900, 950, 1000, 5000, 100_000])
def test_a_body_nested_too_deeply_to_parse_answers_400(api, depth):
    response = api.post(LAUNCH, nested(depth), content_type="application/json")

    assert response.status_code in (400, 422)  # 422 when the parser coped: a list is no launch body
    assert_json_detail(response, response.status_code)
    if depth >= 1000:
        assert response.json()["detail"] == "JSON parse error - the body is nested too deeply"


@pytest.mark.parametrize("depth", [10, 500, 900, 980])
@pytest.mark.parametrize(
    "template",
    [
        '{"task_type": %s}',
        '{"task_type": "sii.sync_documents", "params": %s}',
        '{"task_type": "sii.sync_documents", "params": {"company_id": %s}}',
        '{"task_type": "sii.sync_f29", "params": {"company_id": "' + COMPANY_ID + '", "year": %s}}',
        '{"task_type": "sii.sync_documents_all_companies", "params": {"months": %s}}',
        '{"task_type": "sii.sync_documents_all_companies", "params": {"unknown": %s}}',
        '{"task_type": "sii.sync_documents_all_companies", "extra": %s}',
    ],
)
def test_deep_nesting_anywhere_in_a_launch_body_is_refused_not_a_crash(api, template, depth):
    response = api.post(LAUNCH, template % nested(depth), content_type="application/json")

    assert response.status_code in (400, 422)
    assert_json_detail(response, response.status_code)
    assert not TaskLaunch.objects.exists()


def queries_on_runs(captured: CaptureQueriesContext) -> list[str]:
    tables = (TaskLaunch._meta.db_table, "django_celery_results_taskresult")
    return [query["sql"] for query in captured.captured_queries if any(t in query["sql"] for t in tables)]


@pytest.mark.parametrize("task_id", ["abc%00def", "abc%01def", "tab%09id", "del%7Fid", "x" * 256])
def test_an_id_no_task_can_have_is_unknown_pending_without_a_lookup(api, task_id):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/celery/tasks/{task_id}")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["unknown"], body["meta"]) == (
        "PENDING", True, {"info": "Task is waiting to be executed or doesn't exist"},
    )  # fmt: skip
    assert set(body) >= {"task_id", "result", "error", "traceback", "task_type", "params", "launched_at"}
    assert queries_on_runs(captured) == []


def test_the_longest_possible_id_is_still_looked_up(api):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/celery/tasks/{'x' * 255}")

    assert (response.status_code, response.json()["unknown"]) == (200, True)
    assert queries_on_runs(captured)


@pytest.mark.parametrize("task_id", ["abc%00def", "x" * 256])
def test_revoking_an_id_no_task_can_have_answers_404_without_a_lookup(api, task_id):
    with CaptureQueriesContext(connection) as captured:
        response = api.delete(f"/api/celery/tasks/{task_id}")

    assert_json_detail(response, 404)
    assert queries_on_runs(captured) == []


def test_a_body_over_the_limit_answers_413_json_before_authentication(settings):
    settings.TASKS_API_MAX_BODY_BYTES = 2048
    body = json.dumps({"task_type": "x" * 4096})

    response = APIClient().post(LAUNCH, body, content_type="application/json")

    assert_json_detail(response, 413)
    assert response.json()["detail"] == "Request body too large: at most 2048 bytes."


def test_a_10_mib_body_answers_413_json_with_the_default_limit(api):
    response = api.post(
        LAUNCH, json.dumps({"task_type": "x" * 10 * 1024 * 1024}), content_type="application/json"
    )

    assert_json_detail(response, 413)
    assert not TaskLaunch.objects.exists()


def test_a_body_under_the_limit_is_read(api, settings):
    settings.TASKS_API_MAX_BODY_BYTES = 2048

    response = api.post(LAUNCH, {"task_type": "sii.sync_f29_all_companies"}, format="json")

    assert response.status_code == 202


def test_the_admin_is_not_answered_in_json_when_its_body_is_too_big(client, settings):
    settings.TASKS_API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048

    response = client.post("/admin/login/", {"username": "x" * 4096, "password": "x"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_an_unreadable_content_length_answers_400_json(api):
    response = api.post(LAUNCH, "{}", content_type="application/json", CONTENT_LENGTH="lots")

    assert_json_detail(response, 400)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/json-patch+json",
        "garbage",
        "application/",
        "/json",
        ";",
        "application/json/extra",
    ],
)
def test_a_body_of_an_unsupported_or_malformed_content_type_answers_415(api, content_type):
    response = api.post(LAUNCH, '{"task_type": "sii.sync_f29_all_companies"}', content_type=content_type)

    assert_json_detail(response, 415)
    assert not TaskLaunch.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/json; charset=nonsense", "APPLICATION/JSON"],
)
def test_json_with_any_charset_parameter_is_read(api, content_type):
    response = api.post(LAUNCH, '{"task_type": "sii.sync_f29_all_companies"}', content_type=content_type)

    assert response.status_code == 202


def test_a_body_in_another_encoding_than_declared_answers_400(api):
    body = '{"task_type": "sii.sync_f29_all_companies"}'.encode("utf-16")

    response = api.post(LAUNCH, body, content_type="application/json; charset=utf-8")

    assert_json_detail(response, 400)


@pytest.mark.parametrize(
    ("handler", "status"),
    [
        (lambda request: exceptions.bad_request(request, Exception()), 400),
        (lambda request: exceptions.permission_denied(request, Exception()), 403),
        (lambda request: exceptions.page_not_found(request, Exception()), 404),
        (exceptions.server_error, 500),
    ],
)
def test_django_s_error_pages_are_json_under_the_api_and_html_elsewhere(handler, status):
    api_answer = handler(RequestFactory().get("/api/celery/tasks"))
    page = handler(RequestFactory().get("/admin/"))

    assert (api_answer.status_code, api_answer["Content-Type"]) == (status, "application/json")
    assert isinstance(json.loads(api_answer.content)["detail"], str)
    assert (page.status_code, page["Content-Type"].split(";")[0]) == (status, "text/html")


@pytest.mark.parametrize("method", ["put", "post", "delete", "patch", "trace"])
def test_the_schema_endpoint_refuses_other_methods_in_json_too(client, method):
    assert_json_detail(send(client, method, "/api/schema/"), 405)
