"""POST /api/celery/tasks/launch: validation (422), recording, and publishing after commit."""

import uuid

import pytest
from django.utils import timezone

from tasks_api.models import TaskLaunch

pytestmark = pytest.mark.django_db
COMPANY_ID = "123e4567-e89b-12d3-a456-426614174000"


def launch(client, body, **extra):
    return client.post("/api/celery/tasks/launch", body, format="json", **extra)


def test_a_launch_answers_202_with_the_contract_shape_and_publishes_after_commit(
    api, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = launch(
            api, {"task_type": "sii.sync_documents", "params": {"company_id": COMPANY_ID, "months": 3}}
        )

    assert response.status_code == 202
    body = response.json()
    assert body == {
        "task_id": body["task_id"],
        "task_type": "sii.sync_documents",
        "status": "PENDING",
        "message": "Task sii.sync_documents launched successfully",
    }
    record = TaskLaunch.objects.get(task_id=body["task_id"])
    assert uuid.UUID(body["task_id"]).version == 4
    assert record.params == {"company_id": COMPANY_ID, "months": 3, "month_offset": 0}
    assert (record.launched_by, record.user) == ("user", operator)
    assert record.enqueued is None  # not published until the transaction commits
    assert len(callbacks) == 1


def test_defaults_are_recorded_so_a_relaunch_is_exact(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = launch(api, {"task_type": "sii.sync_f29_all_companies"})

    assert TaskLaunch.objects.get(task_id=response.json()["task_id"]).params == {
        "year": str(timezone.localdate().year)
    }


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"task_type": "sii.sync_documents", "params": {}}, "Invalid parameters: company_id is required"),
        (
            {"task_type": "sii.sync_documents", "params": {"company_id": COMPANY_ID, "months": 13}},
            "Invalid parameters: months must be between 1 and 12",
        ),
        (
            {"task_type": "sii.sync_documents", "params": {"company_id": COMPANY_ID, "months": True}},
            "Invalid parameters: months must be an integer",
        ),
        (
            {"task_type": "sii.sync_documents", "params": {"company_id": "test-company-id"}},
            "Invalid parameters: company_id must be a UUID",
        ),
        (
            {"task_type": "sii.sync_documents", "params": {"company_id": COMPANY_ID, "queue": "celery"}},
            "Invalid parameters: unknown parameter queue (allowed: company_id, months, month_offset)",
        ),
        (
            {"task_type": "sii.sync_f29", "params": {"company_id": COMPANY_ID, "year": "25"}},
            "Invalid parameters: year must be a four-digit year (YYYY)",
        ),
        (
            {"task_type": "sii.sync_f29_all_companies", "params": {"year": "2999"}},
            f"Invalid parameters: year must be between 2000 and {timezone.localdate().year}",
        ),
        ({"task_type": "celery.backend_cleanup"}, "Unknown task_type 'celery.backend_cleanup'"),
        ({"params": {}}, "task_type is required"),
        (
            {"task_type": "sii.sync_f29_all_companies", "params": [2025]},
            "Invalid parameters: params must be a JSON object",
        ),
        ({"task_type": "sii.sync_f29_all_companies", "eta": "2030-01-01"}, "unknown field eta"),
        ([{"task_type": "sii.sync_f29_all_companies"}], "Request body must be a JSON object"),
    ],
)
def test_invalid_launches_answer_422_naming_the_problem_and_record_nothing(api, body, detail):
    response = launch(api, body)

    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)
    assert not TaskLaunch.objects.exists()


def test_malformed_json_answers_400(api):
    response = api.post("/api/celery/tasks/launch", '{"task_type": ', content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_anonymous_requests_get_401(client):
    assert client.post("/api/celery/tasks/launch", {}, content_type="application/json").status_code == 401
    assert client.get("/api/celery/tasks").status_code == 401
    assert client.get("/api/celery/stats").status_code == 401


def test_a_viewer_may_not_launch(viewer_api):
    response = launch(viewer_api, {"task_type": "sii.sync_f29_all_companies"})

    assert response.status_code == 403
    assert not TaskLaunch.objects.exists()
