"""GET /api/celery/runs: the launch history, newest first, filtered and paginated with a total."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tasks_api.models import TaskLaunch
from tasks_api.selectors.history import task_runs_history
from tests.factories import TaskLaunchFactory
from tests.runs import stored

pytestmark = pytest.mark.django_db


def runs(client, query=""):
    response = client.get(f"/api/celery/runs{query}")
    assert response.status_code == 200, response.content
    return response.json()


def ids(page) -> list[str]:
    return [row["task_id"] for row in page["results"]]


def launched_ago(minutes: int, **fields) -> TaskLaunch:
    launch = TaskLaunchFactory(**fields)
    TaskLaunch.objects.filter(pk=launch.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return launch


def test_the_history_is_newest_first_with_a_total(viewer_api):
    old, middle, new = launched_ago(30), launched_ago(20), launched_ago(10)

    page = runs(viewer_api)

    assert page["count"] == 3
    assert ids(page) == [new.task_id, middle.task_id, old.task_id]
    assert page["results"][0]["launched_by"] == "user"


def test_filters_combine_task_type_status_subject_and_launch_time(viewer_api):
    company = uuid.uuid4()
    about = {"params": {"company_id": str(company)}, "subject_id": company}
    wanted = launched_ago(5, **about)
    stored(wanted, "FAILURE", {"exc_message": ["boom"]})
    stored(launched_ago(5), "FAILURE")  # another company
    stored(launched_ago(90, **about), "FAILURE")  # too old
    launched_ago(5, **about)  # pending
    launched_ago(5, task_type="sii.sync_f29", **about)
    after = (timezone.now() - timedelta(minutes=60)).isoformat()

    page = runs(
        viewer_api,
        f"?task_type=sii.sync_documents&status=FAILURE&company_id={company}&launched_after={after.replace('+', '%2B')}",
    )

    assert (page["count"], ids(page)) == (1, [wanted.task_id])
    assert (page["results"][0]["company_id"], page["results"][0]["error"]) == (str(company), "boom")


def test_a_run_without_a_subject_shows_null_under_the_subject_name(viewer_api):
    TaskLaunchFactory(task_type="sii.sync_f29_all_companies", params={"year": "2025"})

    assert runs(viewer_api)["results"][0]["company_id"] is None


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?task_type=nope", "task_type must be one of sii.sync_documents, sii.sync_documents_all_companies"),
        ("?status=done", "status must be one of PENDING"),
        ("?company_id=123", "company_id must be a UUID"),
        ("?launched_after=yesterday", "Invalid launched_after: Datetime has wrong format."),
        ("?page=-1", "page must be a whole number at least 1"),
        ("?page_size=100000", "page_size must be a whole number from 1 to 500"),
        ("?status=", "status must be one of PENDING"),
    ],
)
def test_every_bad_filter_answers_400_naming_it(viewer_api, query, detail):
    response = viewer_api.get(f"/api/celery/runs{query}")

    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:01%2B14:00", "9999-12-31T23:59:59-12:00", "2025-01-15"])
def test_a_launch_time_at_the_edge_of_the_calendar_or_a_bare_date_is_accepted(viewer_api, moment):
    assert runs(viewer_api, f"?launched_after={moment}")["count"] >= 0


def test_a_page_past_the_last_answers_404(viewer_api):
    TaskLaunchFactory()

    assert viewer_api.get("/api/celery/runs?page=2").status_code == 404


def test_counting_a_filtered_history_reads_the_runs_table_alone():
    with CaptureQueriesContext(connection) as queries:
        task_runs_history(status="FAILURE", task_type="sii.sync_documents").count()

    (count,) = [q["sql"] for q in queries.captured_queries]
    assert "django_celery_results" not in count
    assert '"status" = ' in count


def test_the_history_is_indexed_by_task_type_and_by_subject_newest_first():
    indexed = {tuple(index.fields) for index in TaskLaunch._meta.indexes}

    assert {("task_type", "created_at"), ("subject_id", "created_at"), ("status", "created_at")} <= indexed


def test_anonymous_requests_get_401(client):
    assert client.get("/api/celery/runs").status_code == 401
