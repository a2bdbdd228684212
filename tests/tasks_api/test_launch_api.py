"""POST /api/celery/tasks/launch: validation (422), recording, publishing after commit, one fan-out run at a time (409)."""

import threading
import time
import uuid

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tasks_api.models import TaskLaunch
from tasks_api.services import catalog as catalog_service
from tasks_api.services import launches
from tests.factories import CompanyFactory, TaskLaunchFactory, UserFactory
from tests.runs import publish_failed, revoked, stored
from tests.tasks_api.conftest import client_for

pytestmark = pytest.mark.django_db
COMPANY_ID = "123e4567-e89b-12d3-a456-426614174000"


def launch(client, body, **extra):
    return client.post("/api/celery/tasks/launch", body, format="json", **extra)


@pytest.fixture(autouse=True)
def example_company(db):
    """The company the launches name: a launch for one that does not exist is refused (422)."""
    return CompanyFactory(id=COMPANY_ID)


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
        (
            # Full-width (and Arabic-Indic, below) digits match \d, but only ASCII digits make a year.
            {"task_type": "sii.sync_f29_all_companies", "params": {"year": "\uff12\uff10\uff12\uff14"}},
            "Invalid parameters: year must be a four-digit year (YYYY)",
        ),
        (
            {"task_type": "sii.sync_f29_all_companies", "params": {"year": "\u0662\u0660\u0662\u0664"}},
            "Invalid parameters: year must be a four-digit year (YYYY)",
        ),
        (
            # DRF's UUIDField would read false as UUID(int=0): the nil company.
            {"task_type": "sii.sync_documents", "params": {"company_id": False}},
            "Invalid parameters: company_id must be a UUID",
        ),
        (
            {"task_type": "sii.sync_f29", "params": {"company_id": 12345}},
            "Invalid parameters: company_id must be a UUID",
        ),
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


FAN_OUT = {"task_type": "sii.sync_documents_all_companies", "params": {"months": 1}}


@pytest.mark.parametrize("running", [None, "PENDING", "STARTED", "RETRY"])
def test_a_second_fan_out_run_while_one_is_pending_or_running_answers_409_naming_it(api, running):
    first = TaskLaunchFactory(task_type=FAN_OUT["task_type"], params={})
    if running:
        stored(first, running)

    response = launch(api, FAN_OUT)

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"sii.sync_documents_all_companies is already running as task {first.task_id}; "
        "wait for it to finish or revoke it",
        "task_id": first.task_id,
    }
    assert TaskLaunch.objects.count() == 1


@pytest.mark.parametrize("finished", ["SUCCESS", "FAILURE", "REVOKED"])
def test_a_fan_out_run_can_be_launched_again_once_the_last_one_finished(api, finished):
    stored(TaskLaunchFactory(task_type=FAN_OUT["task_type"], params={}), finished)

    assert launch(api, FAN_OUT).status_code == 202


@pytest.mark.parametrize("ended", [publish_failed, revoked])
def test_a_fan_out_run_whose_publish_failed_or_that_was_revoked_does_not_block_the_next(api, ended):
    ended(TaskLaunchFactory(task_type=FAN_OUT["task_type"], params={}))

    assert launch(api, FAN_OUT).status_code == 202


@pytest.mark.parametrize("child_state", [None, "STARTED", "RETRY"])
def test_a_fan_out_whose_children_still_run_answers_409_naming_its_parent(api, child_state):
    parent = TaskLaunchFactory(task_type=FAN_OUT["task_type"], params={})
    stored(parent, "SUCCESS", {"success": True, "dispatched": 2})
    stored(TaskLaunchFactory(parent=parent), "SUCCESS", {"success": True})
    child = TaskLaunchFactory(parent=parent)
    if child_state:
        stored(child, child_state, {"exc_type": "SiiUnavailable", "exc_message": ["503"]})

    response = launch(api, FAN_OUT)

    assert response.status_code == 409
    assert response.json()["task_id"] == parent.task_id
    stored(child, "SUCCESS", {"success": True})
    assert launch(api, FAN_OUT).status_code == 202  # the whole family finished


def test_another_fan_out_type_and_per_company_runs_are_not_blocked(api):
    TaskLaunchFactory(task_type=FAN_OUT["task_type"], params={})
    per_company = {"task_type": "sii.sync_documents", "params": {"company_id": COMPANY_ID}}

    assert launch(api, {"task_type": "sii.sync_f29_all_companies"}).status_code == 202
    assert [launch(api, per_company).status_code for _ in range(2)] == [202, 202]


def test_the_admin_launch_form_refuses_a_second_fan_out_run_too(client, superuser):
    running = TaskLaunchFactory(task_type=FAN_OUT["task_type"], params={})
    url = reverse("admin:tasks_api_tasklaunch_launch_type", args=[FAN_OUT["task_type"]])

    page = client.post(url, {"months": "1"}).content.decode()

    assert f"is already running as task {running.task_id}" in page
    assert TaskLaunch.objects.count() == 1


# SQLite's in-memory test database is shared between threads through a shared cache, whose table
# locks fail at once instead of waiting; on a file the same race ends in one launch and one 409.
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's shared in-memory test database fails concurrent writers at once; make test runs on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_fan_out_launches_record_exactly_one_run(monkeypatch):
    user = UserFactory()  # not a group member: a transactional test may run after the groups were flushed
    monkeypatch.setattr(launches, "task_launch_publish", lambda launch: None)  # no broker needed
    slow = slowed(launches.task_launch)  # both requests would pass the check before either inserts
    monkeypatch.setattr(catalog_service, "task_launch", slow)
    outcomes: list[str] = []

    threads = [threading.Thread(target=launch_in_thread, args=(user, outcomes)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(outcomes) == ["already running", "launched"]
    assert TaskLaunch.objects.filter(task_type=FAN_OUT["task_type"]).count() == 1


def slowed(function):
    def wrapper(**kwargs):
        time.sleep(0.5)
        return function(**kwargs)

    return wrapper


def launch_in_thread(user, outcomes: list[str]) -> None:
    try:
        catalog_service.task_launch_validated(task_type=FAN_OUT["task_type"], data={}, user=user)
        outcomes.append("launched")
    except catalog_service.FanOutAlreadyRunning:
        outcomes.append("already running")
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("task_type", "status"),
    [
        ("sii.sync_documents", 422),
        ("sii.sync_f29", 422),
        ("sii.sync_documents_all_companies", 202),
        ("sii.sync_f29_all_companies", 202),
    ],
)
def test_leaving_params_out_is_refused_exactly_when_the_task_type_has_required_params(api, task_type, status):
    response = launch(api, {"task_type": task_type})

    assert response.status_code == status
    if status == 422:
        assert response.json()["detail"] == "Invalid parameters: company_id is required"


@pytest.mark.timeout(30)
@pytest.mark.django_db(transaction=True)
def test_a_fan_out_launch_the_broker_refuses_answers_500_and_does_not_block_the_next(unreachable_broker):
    client = client_for(UserFactory(is_superuser=True))  # the groups may be flushed by now

    response = launch(client, FAN_OUT)

    assert response.status_code == 500
    assert response.json()["detail"].startswith("Failed to launch task: ")
    refused = TaskLaunch.objects.get()
    assert refused.enqueued is False
    assert launch(client, FAN_OUT).status_code == 500  # refused again by the broker, not 409
