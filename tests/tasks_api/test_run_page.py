"""A run's page: buttons at the top, the status in words, progress, the error first, children."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from tasks_api.console import display
from tasks_api.console.run_page import progress, run_summary
from tasks_api.models import TaskLaunch
from tasks_api.selectors.children import children_status_counts
from tests.factories import TaskLaunchFactory, UserFactory
from tests.runs import delivered, failed_run, stored

pytestmark = pytest.mark.django_db
FANOUT = "sii.sync_documents_all_companies"


def page_of(client, run, **params) -> str:
    url = reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id])
    return client.get(url, params).content.decode()


def parent_with_children(statuses: list[str | None]) -> TaskLaunch:
    parent = TaskLaunchFactory(task_type=FANOUT, params={})
    stored(parent, "SUCCESS", {"success": True, "children": len(statuses)})
    for status in statuses:
        child = TaskLaunchFactory(parent=parent, launched_by="fanout")
        if status == "FAILURE":
            stored(child, status, {"exc_type": "SiiBadCredentials", "exc_message": ["clave rejected"]})
        elif status:
            stored(child, status, {"success": True})
    return parent


@pytest.mark.parametrize(
    ("status", "counts", "text"),
    [
        ("STARTED", None, "STARTED"),
        ("SUCCESS", {"SUCCESS": 1201, "FAILURE": 3}, "SUCCESS, 3 of 1,204 children failed"),
        (
            "SUCCESS",
            {"SUCCESS": 1189, "FAILURE": 3, "STARTED": 4, "PENDING": 8},
            "SUCCESS, 3 of 1,204 children failed, 12 children still running",
        ),
        ("SUCCESS", {"SUCCESS": 5}, "SUCCESS, all 5 children succeeded"),
        ("SUCCESS", {"PENDING": 1}, "SUCCESS, 1 child still running"),
    ],
)
def test_a_parent_s_status_reads_as_a_sentence_about_its_children(status, counts, text):
    assert run_summary(status, counts) == text


def test_progress_names_the_step_and_how_far_it_is():
    shown = progress({"current": 3, "total": 9, "step": "compras 202611"})

    assert shown is not None
    assert shown["text"] == "compras 202611, 3 of 9"
    assert shown["percent"] == 22  # two steps of nine done


def test_a_running_run_shows_its_progress_bar_and_polls(client, superuser):
    run = TaskLaunchFactory()
    stored(run, "STARTED", {"current": 3, "total": 9, "step": "compras 202611", "pid": 7})

    page = page_of(client, run)

    assert "compras 202611, 3 of 9" in page
    assert 'hx-trigger="every 2s"' in page
    assert "Live" in page


def test_a_finished_run_does_not_poll_and_says_it_is_up_to_date(client, superuser):
    page = page_of(client, failed_run())

    assert 'hx-trigger="every 2s"' not in page
    assert "Up to date" in page


def test_the_error_comes_first_in_words_with_the_traceback_folded(client, superuser):
    page = page_of(client, failed_run())

    assert page.index("Failed: getResumen: HTTP 503 from the SII.") < page.index("Traceback (most recent")
    assert page.index("Failed: getResumen") < page.index("Params")
    assert '<details class="run-traceback' in page


def test_times_are_shown_to_the_second_and_durations_in_words(client, superuser):
    run = failed_run()
    started = timezone.now() - timezone.timedelta(seconds=252)
    TaskLaunch.objects.filter(pk=run.pk).update(started_at=started, finished_at=timezone.now())

    page = page_of(client, run)

    assert "4 min 12 s" in page
    assert timezone.localtime(started).strftime("%Y-%m-%d %H:%M:%S") in page


def test_a_successful_run_s_result_is_a_table_with_the_raw_json_folded(client, superuser):
    run = TaskLaunchFactory(task_type="tests.anything", params={})
    stored(run, "SUCCESS", {"success": True, "rows": 42, "nested": {"a": 1}})

    page = page_of(client, run)

    assert "<td" in page
    assert ">rows<" in page.replace("\n", "").replace(" ", "")
    assert "Raw JSON" in page
    assert "&quot;nested&quot;" in page or '"nested"' in page


def test_a_parent_shows_its_summary_and_the_children_bar(client, superuser):
    parent = parent_with_children(["SUCCESS", "SUCCESS", "FAILURE", "STARTED", None])

    page = page_of(client, parent)

    assert "SUCCESS, 1 of 5 children failed, 2 children still running" in page
    assert 'id="run-children-bar"' in page
    assert "2 succeeded" in page
    assert "1 failed" in page


def test_a_parent_whose_children_still_run_shows_the_family_running_with_its_wall_time(client, superuser):
    parent = parent_with_children(["SUCCESS", "STARTED"])

    page = page_of(client, parent)

    assert "running children" in page
    assert 'data-status="SUCCESS"' not in page.split('id="run-summary"')[0]
    assert "Family running for" in page


def test_a_finished_family_s_wall_time_runs_to_its_last_child_s_end(client, superuser):
    parent = parent_with_children(["SUCCESS", "SUCCESS"])
    last = parent.children.order_by("created_at").last()
    start = timezone.now() - timezone.timedelta(minutes=10)
    TaskLaunch.objects.filter(pk=parent.pk).update(
        started_at=start, finished_at=start + timezone.timedelta(seconds=1)
    )
    parent.children.update(finished_at=start + timezone.timedelta(minutes=1))
    TaskLaunch.objects.filter(pk=last.pk).update(
        finished_at=start + timezone.timedelta(minutes=4, seconds=12)
    )

    page = page_of(client, parent)

    assert "running children" not in page
    assert 'data-status="SUCCESS"' in page
    assert "Family took" in page
    assert "4 min 12 s" in page


def test_the_attempts_timeline_shows_each_delivery_its_reason_and_retry_time(client, superuser):
    launch = TaskLaunchFactory()
    due = timezone.now() + timezone.timedelta(minutes=1)
    unavailable = {"exc_type": "SiiUnavailable", "exc_message": ["getResumen: HTTP 503 from the SII"]}
    delivered(launch, "RETRY", unavailable, worker="celery@w1", retry_when=due, retries=0)
    delivered(launch, "SUCCESS", {"success": True}, worker="celery@w2")

    page = page_of(client, launch)

    timeline = page.split('id="run-attempts"')[1]
    assert "celery@w1" in timeline
    assert "celery@w2" in timeline
    assert "Retry scheduled" in timeline
    assert "Succeeded" in timeline
    assert "SiiUnavailable: getResumen: HTTP 503 from the SII" in timeline
    assert display.moment(due) in timeline


def test_the_children_table_is_paginated_and_filtered_by_status(client, superuser):
    parent = parent_with_children(["SUCCESS"] * 30 + ["FAILURE"])

    first = page_of(client, parent)
    failed = page_of(client, parent, children_status="FAILURE")
    second = page_of(client, parent, children_page=2)

    assert "Page 1 of 2 (31 children)" in first
    assert "Page 2 of 2" in second
    assert "Page 1 of 1 (1 FAILURE children)" in failed
    assert "clave rejected" in failed


def test_children_counts_by_state_are_one_query(django_assert_num_queries):
    parent = parent_with_children(["SUCCESS", "FAILURE", None])

    with django_assert_num_queries(1):
        counts = children_status_counts(parent_task_id=parent.task_id)

    assert (counts["SUCCESS"], counts["FAILURE"], counts["PENDING"], counts["STARTED"]) == (1, 1, 1, 0)


def test_the_page_offers_relaunch_revoke_and_terminate_buttons_by_permission(client):
    run = TaskLaunchFactory()
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_tasklaunch", "revoke_task"]))
    client.force_login(user)

    page = page_of(client, run)

    assert f"/tasklaunch/{run.task_id}/revoke/" in page
    assert f"/tasklaunch/{run.task_id}/terminate/" not in page
    assert f"/tasklaunch/{run.task_id}/relaunch/" not in page
    assert client.get(f"/admin/tasks_api/tasklaunch/{run.task_id}/terminate/").status_code == 403


def test_a_finished_run_offers_no_revoke_button(client, superuser):
    run = failed_run()

    page = page_of(client, run)

    assert f"/tasklaunch/{run.task_id}/relaunch/" in page
    assert f"/tasklaunch/{run.task_id}/revoke/" not in page


def test_the_revoke_button_asks_first_then_revokes_and_returns_to_the_run(client, superuser):
    run = TaskLaunchFactory()
    url = f"/admin/tasks_api/tasklaunch/{run.task_id}/revoke/"

    question = client.get(url).content.decode()
    assert "waiting: will never run" in question
    assert not TaskLaunch.objects.get(pk=run.pk).is_revoked

    response = client.post(url, {"post": "yes"})

    assert response.url == reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id])
    assert TaskLaunch.objects.get(pk=run.pk).is_revoked


def test_the_relaunch_button_opens_the_new_run(client, superuser, django_capture_on_commit_callbacks):
    run = failed_run()

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/admin/tasks_api/tasklaunch/{run.task_id}/relaunch/", {"post": "yes"})

    again = TaskLaunch.objects.get(relaunch_of=run)
    assert response.url == reverse("admin:tasks_api_tasklaunch_change", args=[again.task_id])
