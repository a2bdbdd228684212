"""GET /api/celery/tasks/{id}/attempts: one row per delivery, paginated, first first."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tasks_api.models import TaskLaunch
from tasks_api.services.claims import run_claim, run_release
from tests.factories import TaskLaunchFactory
from tests.runs import delivered
from tests.tasks_api.conftest import client_for, user_in

pytestmark = pytest.mark.django_db
UNAVAILABLE = {"exc_type": "SiiUnavailable", "exc_message": ["getResumen: HTTP 503 from the SII"]}


def attempts(client, launch, query=""):
    return client.get(f"/api/celery/tasks/{launch.task_id}/attempts{query}")


def test_a_retried_run_shows_the_retry_with_its_reason_and_time_then_the_success(viewer_api):
    launch = TaskLaunchFactory()
    due = timezone.now() + timedelta(seconds=60)
    delivered(launch, "RETRY", UNAVAILABLE, worker="celery@w1", retry_when=due, retries=0)
    delivered(launch, "SUCCESS", {"success": True}, worker="celery@w2")

    response = attempts(viewer_api, launch)

    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["next"], page["previous"]) == (2, None, None)
    first, second = page["results"]
    assert (first["number"], first["worker"], first["outcome"]) == (1, "celery@w1", "retry")
    assert (first["error_type"], first["reason"]) == ("SiiUnavailable", "getResumen: HTTP 503 from the SII")
    assert datetime.fromisoformat(first["retry_at"]) == due
    assert first["ended_at"] is not None
    assert first["pid"] is not None
    assert (second["number"], second["worker"], second["outcome"]) == (2, "celery@w2", "succeeded")
    assert (second["error_type"], second["reason"], second["retry_at"]) == ("", "", None)


def test_an_attempt_whose_worker_died_reads_lost_and_the_next_one_runs(viewer_api):
    launch = delivered(TaskLaunchFactory(), "STARTED", {"pid": 1}, worker="celery@w1")
    # The first worker died holding the run: its claim is still written on the row.
    TaskLaunch.objects.filter(pk=launch.pk).update(claimed_by="gone-host:4242", claimed_at=timezone.now())
    try:  # the broker delivers the run again
        run_claim(task_id=launch.task_id, max_lost=3, worker="celery@w3")
    finally:
        run_release(task_id=launch.task_id)

    rows = attempts(viewer_api, launch).json()["results"]

    assert [(row["number"], row["worker"], row["outcome"]) for row in rows] == [
        (1, "celery@w1", "lost"), (2, "celery@w3", "running"),
    ]  # fmt: skip
    assert rows[0]["error_type"] == "WorkerLost"
    assert rows[1]["ended_at"] is None


def test_a_run_never_delivered_has_no_attempts(viewer_api):
    assert attempts(viewer_api, TaskLaunchFactory()).json() == {
        "count": 0, "next": None, "previous": None, "results": [],
    }  # fmt: skip


def test_attempts_are_paginated(viewer_api):
    launch = TaskLaunchFactory()
    for _ in range(3):
        delivered(launch, "RETRY", UNAVAILABLE, retries=0)

    page = attempts(viewer_api, launch, "?page_size=2&page=2").json()

    assert page["count"] == 3
    assert [row["number"] for row in page["results"]] == [3]


@pytest.mark.parametrize(
    ("task_id", "query", "code"),
    [
        ("9f0c0000-0000-4000-8000-000000000000", "", 404),
        ("not a run id!", "", 404),
        ("known", "?page=0", 400),
    ],
)
def test_an_unknown_run_is_404_and_a_bad_page_is_400_in_words(viewer_api, task_id, query, code):
    launch = TaskLaunchFactory()
    task_id = launch.task_id if task_id == "known" else task_id

    response = viewer_api.get(f"/api/celery/tasks/{task_id}/attempts{query}")

    assert response.status_code == code
    assert response.json()["detail"]


def test_attempts_need_the_view_permission():
    response = attempts(client_for(user_in(None)), TaskLaunchFactory())

    assert response.status_code == 403
