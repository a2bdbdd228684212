"""POST /api/celery/tasks/{id}/relaunch: the same task type and exact params, a new recorded launch."""

import pytest

from tasks_api.models import TaskLaunch
from tests.factories import CompanyFactory, TaskLaunchFactory
from tests.runs import stored
from tests.tasks_api.conftest import client_for, user_in

pytestmark = pytest.mark.django_db
FAN_OUT = "sii.sync_f29_all_companies"


def relaunch(client, task_id, **extra):
    return client.post(f"/api/celery/tasks/{task_id}/relaunch", **extra)


@pytest.fixture
def failed_run():
    company = CompanyFactory()
    params = {"company_id": str(company.pk), "months": 2, "month_offset": 1}
    launch = TaskLaunchFactory(params=params, subject_id=company.pk)
    stored(launch, "FAILURE", {"exc_message": ["boom"]})
    return launch


def test_a_relaunch_answers_like_a_launch_and_records_a_linked_run_with_the_same_params(
    api, operator, failed_run, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = relaunch(api, failed_run.task_id)

    assert response.status_code == 202
    body = response.json()
    assert body == {
        "task_id": body["task_id"],
        "task_type": "sii.sync_documents",
        "status": "PENDING",
        "message": "Task sii.sync_documents launched successfully",
        "relaunch_of": failed_run.task_id,
    }
    new = TaskLaunch.objects.get(task_id=body["task_id"])
    assert (new.task_type, new.params, new.subject_id) == (
        failed_run.task_type,
        failed_run.params,
        failed_run.subject_id,
    )
    assert (new.relaunch_of, new.user, new.launched_by) == (failed_run, operator, "user")
    assert len(callbacks) == 1  # published once the record commits
    assert api.get(f"/api/celery/tasks/{body['task_id']}").json()["status"] == "PENDING"


def test_a_fan_out_type_still_running_is_not_relaunched_409_naming_the_run(api):
    running = TaskLaunchFactory(task_type=FAN_OUT, params={"year": "2025"})

    response = relaunch(api, running.task_id)

    assert response.status_code == 409
    assert response.json()["task_id"] == running.task_id


@pytest.mark.parametrize("task_id", ["non-existent-id", "x" * 300])
def test_an_id_nobody_launched_answers_404(api, task_id):
    response = relaunch(api, task_id)

    assert (response.status_code, response.json()) == (404, {"detail": f"Task {task_id} not found"})
    assert not TaskLaunch.objects.exists()


def test_a_viewer_may_read_but_not_relaunch(viewer_api, failed_run):
    assert viewer_api.get(f"/api/celery/tasks/{failed_run.task_id}/children").status_code == 200
    assert relaunch(viewer_api, failed_run.task_id).status_code == 403
    assert TaskLaunch.objects.count() == 1


def test_anonymous_requests_get_401(client, failed_run):
    assert relaunch(client, failed_run.task_id).status_code == 401


def test_relaunches_count_against_the_launch_rate(api, operator, failed_run, settings):
    from django.core.cache import caches

    caches[settings.TASKS_API_THROTTLE_CACHE].delete(f"throttle_launch_{operator.pk}")
    settings.TASKS_API_LAUNCH_RATE = "1/min"

    assert relaunch(api, failed_run.task_id).status_code == 202
    assert relaunch(api, failed_run.task_id).status_code == 429


def test_other_methods_answer_405(api, failed_run):
    assert api.get(f"/api/celery/tasks/{failed_run.task_id}/relaunch").status_code == 405


def test_an_operator_without_the_launch_permission_is_refused(failed_run):
    assert relaunch(client_for(user_in("task viewers", username="v2")), failed_run.task_id).status_code == 403
