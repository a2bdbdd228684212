"""GET /api/celery/tasks/{id}: the launch record joined with the stored result, every state."""

import pytest

from tasks_api.models import TaskLaunch
from tests.factories import TaskLaunchFactory
from tests.runs import publish_failed, stored

pytestmark = pytest.mark.django_db


def launched(task_type="sii.sync_documents", **fields) -> TaskLaunch:
    return TaskLaunchFactory(task_type=task_type, **fields)


def status_of(client, task_id) -> dict:
    response = client.get(f"/api/celery/tasks/{task_id}")
    assert response.status_code == 200
    return response.json()


def test_a_launched_task_no_worker_started_is_pending(viewer_api):
    launch = launched()

    body = status_of(viewer_api, launch.task_id)

    assert (body["status"], body["meta"], body["unknown"]) == (
        "PENDING", {"info": "Task is waiting to be executed"}, False,
    )  # fmt: skip
    assert body["params"] == launch.params
    assert body["task_type"] == "sii.sync_documents"


def test_an_id_nobody_launched_answers_the_contract_s_pending_plus_an_unknown_flag(viewer_api):
    body = status_of(viewer_api, "non-existent-id")

    assert body == body | {
        "task_id": "non-existent-id", "status": "PENDING", "result": None, "error": None, "traceback": None,
        "meta": {"info": "Task is waiting to be executed or doesn't exist"}, "unknown": True,
    }  # fmt: skip


def test_a_running_task_shows_its_progress_in_meta(viewer_api):
    launch = launched()
    stored(
        launch,
        "STARTED",
        {"info": "Task is running", "current": 2, "total": 6, "step": "ventas 202412", "pid": 1},
    )

    body = status_of(viewer_api, launch.task_id)

    assert body["status"] == "STARTED"
    assert body["meta"] == {"info": "Task is running", "current": 2, "total": 6, "step": "ventas 202412"}


def test_a_retrying_task_shows_its_retry_count_and_last_error(viewer_api):
    launch = launched()
    error = {"exc_type": "SiiUnavailable", "exc_message": ["getResumen: HTTP 503 from the SII."]}
    stored(launch, "RETRY", error, retries=1)  # the second retry: Celery counts the ones before

    body = status_of(viewer_api, launch.task_id)

    assert body["status"] == "RETRY"
    assert body["meta"]["retries"] == 2
    assert body["meta"]["last_error"] == "getResumen: HTTP 503 from the SII."


def test_a_failed_task_shows_the_exception_message_as_error_and_its_traceback(viewer_api):
    launch = launched()
    stored(
        launch,
        "FAILURE",
        {"exc_type": "CompanyNotFound", "exc_message": ["Company not found"]},
        "Traceback ...",
    )

    body = status_of(viewer_api, launch.task_id)

    assert (body["status"], body["error"], body["traceback"], body["result"]) == (
        "FAILURE", "Company not found", "Traceback ...", None,
    )  # fmt: skip
    assert body["finished_at"] is not None


def test_a_successful_task_shows_its_result_and_no_error(viewer_api):
    launch = launched()
    result = {"success": True, "compras": {"total": 150, "period": "202501"}}
    stored(launch, "SUCCESS", result)

    body = status_of(viewer_api, launch.task_id)

    assert (body["status"], body["result"], body["error"], body["traceback"]) == (
        "SUCCESS",
        result,
        None,
        None,
    )


def test_a_launch_the_broker_refused_is_a_failure_not_pending_forever(viewer_api):
    launch = publish_failed(launched())

    body = status_of(viewer_api, launch.task_id)

    assert (body["status"], body["error"]) == ("FAILURE", "Failed to launch task: Connection refused")


def test_a_fan_out_parent_shows_its_children_counts_in_meta(viewer_api):
    parent = launched("sii.sync_documents_all_companies")
    stored(parent, "SUCCESS", {"success": True, "dispatched": 4})
    children = [launched(parent=parent) for _ in range(4)]
    stored(children[0], "SUCCESS")
    stored(children[1], "FAILURE", {"exc_type": "SiiBadCredentials", "exc_message": ["bad"]})
    stored(children[2], "STARTED", {})

    body = status_of(viewer_api, parent.task_id)

    assert body["meta"]["children"] == {
        "total": 4, "pending": 1, "running": 1, "succeeded": 1, "failed": 1, "revoked": 0,
    }  # fmt: skip
    assert body["meta"]["children_done"] is False
    assert body["status"] == "SUCCESS"
