"""GET /api/celery/tasks/{id}/children: a fan-out parent's children, paginated and filterable by state."""

import uuid

import pytest

from tests.factories import TaskLaunchFactory
from tests.runs import publish_failed, stored
from tests.tasks_api.conftest import client_for, user_in

pytestmark = pytest.mark.django_db
PARENT_TYPE = "sii.sync_documents_all_companies"


@pytest.fixture
def parent():
    return TaskLaunchFactory(task_type=PARENT_TYPE, params={"months": 1, "month_offset": 1})


def child_of(parent, **fields):
    company_id = uuid.uuid4()
    params = {"company_id": str(company_id), "months": 1, "month_offset": 1}
    return TaskLaunchFactory(
        parent=parent, launched_by="fanout", params=params, subject_id=company_id, **fields
    )


def children(client, parent, query=""):
    return client.get(f"/api/celery/tasks/{parent.task_id}/children{query}")


def test_each_child_comes_with_its_state_subject_times_and_error_in_launch_order(viewer_api, parent):
    done, failed, waiting = child_of(parent), child_of(parent), child_of(parent)
    stored(done, "SUCCESS", {"success": True})
    stored(failed, "FAILURE", {"exc_type": "SiiUnavailable", "exc_message": ["HTTP 503 from the SII."]})

    response = children(viewer_api, parent)

    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["next"], page["previous"]) == (3, None, None)
    rows = page["results"]
    assert [row["task_id"] for row in rows] == [done.task_id, failed.task_id, waiting.task_id]
    assert [row["status"] for row in rows] == ["SUCCESS", "FAILURE", "PENDING"]
    assert [row["company_id"] for row in rows] == [str(c.subject_id) for c in (done, failed, waiting)]
    assert [row["error"] for row in rows] == [None, "HTTP 503 from the SII.", None]
    assert rows[0]["started_at"]
    assert rows[0]["finished_at"]
    assert rows[0]["launched_at"]
    assert (rows[2]["started_at"], rows[2]["finished_at"]) == (None, None)
    assert rows[0]["parent_task_id"] == parent.task_id


def test_the_status_filter_shows_only_the_children_in_that_state(viewer_api, parent):
    failed = child_of(parent)
    stored(failed, "FAILURE", {"exc_type": "X", "exc_message": ["boom"]})
    not_enqueued = publish_failed(child_of(parent), "Redis down")
    stored(child_of(parent), "SUCCESS")

    rows = children(viewer_api, parent, "?status=FAILURE").json()["results"]

    assert {row["task_id"]: row["error"] for row in rows} == {
        failed.task_id: "boom",
        not_enqueued.task_id: "Failed to launch task: Redis down",
    }


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?status=failed", "status must be one of PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED"),
        ("?page=0", "page must be a whole number at least 1"),
        ("?page=two", "page must be a whole number at least 1"),
        ("?page_size=501", "page_size must be a whole number from 1 to 500"),
        ("?page_size=0", "page_size must be a whole number from 1 to 500"),
    ],
)
def test_bad_filters_and_page_numbers_answer_400_naming_them(viewer_api, parent, query, detail):
    response = children(viewer_api, parent, query)

    assert (response.status_code, response.json()) == (400, {"detail": detail})


def test_children_come_in_pages_with_links_and_a_total(viewer_api, parent):
    made = [child_of(parent) for _ in range(5)]

    first = children(viewer_api, parent, "?page_size=2").json()
    last = children(viewer_api, parent, "?page_size=2&page=3").json()

    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert "page=2" in first["next"]
    assert "page_size=2" in first["next"]
    assert [row["task_id"] for row in last["results"]] == [made[4].task_id]
    assert last["next"] is None
    assert children(viewer_api, parent, "?page_size=2&page=4").status_code == 404


def test_the_page_size_defaults_to_the_setting(viewer_api, parent, settings):
    settings.TASKS_API_PAGE_SIZE = 2
    for _ in range(3):
        child_of(parent)

    assert len(children(viewer_api, parent).json()["results"]) == 2


def test_a_page_takes_the_same_few_queries_whatever_the_number_of_children(
    viewer_api, parent, django_assert_max_num_queries
):
    for index in range(30):
        stored(child_of(parent), "FAILURE" if index % 3 else "SUCCESS", {"exc_message": ["x"]})

    with django_assert_max_num_queries(8):  # auth, the parent, the count, the page
        assert len(children(viewer_api, parent).json()["results"]) == 30


def test_a_run_with_no_children_has_an_empty_page(viewer_api):
    assert children(viewer_api, TaskLaunchFactory()).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.parametrize("task_id", ["non-existent-id", "x" * 300])
def test_an_id_nobody_launched_answers_404(viewer_api, task_id):
    response = viewer_api.get(f"/api/celery/tasks/{task_id}/children")

    assert response.status_code == 404
    assert response.json()["detail"] == f"Task {task_id} not found"


def test_anonymous_requests_get_401_and_users_without_the_view_permission_403(client, parent):
    assert client.get(f"/api/celery/tasks/{parent.task_id}/children").status_code == 401
    assert children(client_for(user_in(None, username="nobody")), parent).status_code == 403
