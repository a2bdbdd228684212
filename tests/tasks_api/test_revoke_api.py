"""DELETE /api/celery/tasks/{id}: revoke without ever overwriting a finished task's state."""

import json

import pytest
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tests.factories import TaskLaunchFactory
from tests.runs import publish_failed, stored
from tests.tasks_api.conftest import client_for, user_in

pytestmark = pytest.mark.django_db


def revoke(client, task_id, query=""):
    return client.delete(f"/api/celery/tasks/{task_id}{query}")


def test_revoking_a_pending_task_shows_revoked_at_once_with_no_worker(api, operator):
    launch = TaskLaunchFactory()

    response = revoke(api, launch.task_id, "?terminate=false")

    assert response.status_code == 200
    assert response.json() == {
        "task_id": str(launch.task_id), "status": "revoked", "terminate": False,
        "message": f"Task {launch.task_id} has been revoked", "children_revoked": 0,
    }  # fmt: skip
    launch.refresh_from_db()
    assert (launch.is_revoked, launch.revoked_by) == (True, operator)
    assert TaskResult.objects.get(task_id=str(launch.task_id)).status == "REVOKED"
    status = api.get(f"/api/celery/tasks/{launch.task_id}").json()
    assert (status["status"], status["started_at"]) == ("REVOKED", None)
    assert status["finished_at"] is not None


def test_revoke_of_finished_task_keeps_its_result(api):
    launch = TaskLaunchFactory()
    stored(launch, "SUCCESS", {"success": True})

    response = revoke(api, launch.task_id)

    assert response.status_code == 409
    assert "already finished" in response.json()["detail"]
    result = TaskResult.objects.get(task_id=str(launch.task_id))
    assert (result.status, json.loads(result.result)) == ("SUCCESS", {"success": True})
    launch.refresh_from_db()
    assert not launch.is_revoked


def test_revoking_a_running_task_leaves_its_state_to_the_worker(api):
    launch = TaskLaunchFactory()
    stored(launch, "STARTED", {"current": 1})

    assert revoke(api, launch.task_id).status_code == 200

    assert TaskResult.objects.get(task_id=str(launch.task_id)).status == "STARTED"
    assert TaskLaunch.objects.get(pk=launch.pk).is_revoked


def test_revoking_a_fan_out_parent_revokes_its_unfinished_children(api):
    parent = TaskLaunchFactory(task_type="sii.sync_documents_all_companies")
    stored(parent, "SUCCESS", {"dispatched": 3})
    done, running, waiting = (TaskLaunchFactory(parent=parent) for _ in range(3))
    stored(done, "SUCCESS")
    stored(running, "STARTED")

    response = revoke(api, parent.task_id)

    assert response.json()["children_revoked"] == 2
    statuses = dict(TaskResult.objects.values_list("task_id", "status"))
    assert statuses[str(parent.task_id)] == "SUCCESS"
    assert statuses[str(done.task_id)] == "SUCCESS"
    assert statuses[str(running.task_id)] == "STARTED"
    assert statuses[str(waiting.task_id)] == "REVOKED"
    assert {c.task_id for c in TaskLaunch.objects.filter(parent=parent) if c.is_revoked} == {
        running.task_id, waiting.task_id,
    }  # fmt: skip


def test_revoking_an_unknown_id_answers_404(api):
    assert revoke(api, "non-existent-id").status_code == 404


def test_terminate_needs_its_own_permission(db):
    launch = TaskLaunchFactory()
    revoker = user_in(None, username="revoker")
    revoker.user_permissions.add(*_permissions("view_tasklaunch", "revoke_task"))
    client = client_for(revoker)

    assert revoke(client, launch.task_id, "?terminate=true").status_code == 403
    assert not TaskLaunch.objects.get(pk=launch.pk).is_revoked
    assert revoke(client, launch.task_id, "?terminate=false").status_code == 200


def test_a_viewer_may_not_revoke(viewer_api):
    launch = TaskLaunchFactory()

    assert revoke(viewer_api, launch.task_id).status_code == 403


def test_a_bad_terminate_value_answers_422(api):
    launch = TaskLaunchFactory()

    response = revoke(api, launch.task_id, "?terminate=maybe")

    assert response.status_code == 422
    assert response.json() == {"detail": "terminate must be true or false"}


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="tasks_api", codename__in=codenames)


def test_revoking_a_launch_the_broker_refused_keeps_its_failure(api):
    launch = publish_failed(TaskLaunchFactory())

    response = revoke(api, launch.task_id)

    assert response.status_code == 409
    status = api.get(f"/api/celery/tasks/{launch.task_id}").json()
    assert (status["status"], status["error"]) == ("FAILURE", "Failed to launch task: Connection refused")
