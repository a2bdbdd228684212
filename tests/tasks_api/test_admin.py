"""The task runs admin: list, filters, search, detail, relaunch / revoke / terminate, launch forms."""

import json
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.runs.queries import task_runs
from tests.factories import CompanyFactory, TaskLaunchFactory, UserFactory
from tests.runs import CHANGELIST, failed_run, stored

pytestmark = pytest.mark.django_db


def staff_with(client, *codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="tasks_api", codename__in=codenames)
    )
    client.force_login(user)
    return user


def act(client, action, runs, confirm=True):
    data = {"action": action, "_selected_action": [run.task_id for run in runs]}
    if confirm:
        data["post"] = "yes"
    return client.post(CHANGELIST, data, follow=confirm)


@pytest.mark.parametrize(
    ("query", "shown"),
    [("status=FAILURE", True), ("status=SUCCESS", False), ("launched_by__exact=beat", False)],
)
def test_the_list_filters_by_status_and_launcher(client, superuser, query, shown):
    run = failed_run()

    page = client.get(f"{CHANGELIST}?{query}").content.decode()

    assert (run.task_id[:8] in page) is shown


def test_the_detail_shows_params_error_and_traceback_readably(client, superuser):
    run = failed_run()

    page = client.get(reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id])).content.decode()

    assert "getResumen: HTTP 503 from the SII." in page
    assert "Traceback (most recent call last):" in page
    assert "&quot;month_offset&quot;: 1" in page or '"month_offset": 1' in page


def test_the_detail_links_parent_children_relaunches_and_periodic_task(client, superuser):
    crontab = CrontabSchedule.objects.create(minute="0", hour="3")
    schedule = PeriodicTask.objects.create(
        name="nightly", task="sii.sync_documents_all_companies", crontab=crontab
    )
    parent = TaskLaunchFactory(
        task_type="sii.sync_documents_all_companies", launched_by="beat", periodic_task_name="nightly"
    )
    child = TaskLaunchFactory(parent=parent, launched_by="fanout")
    stored(child, "SUCCESS", {"success": True})
    again = TaskLaunchFactory(task_type=parent.task_type, relaunch_of=parent)

    page = client.get(reverse("admin:tasks_api_tasklaunch_change", args=[parent.task_id])).content.decode()
    child_page = client.get(
        reverse("admin:tasks_api_tasklaunch_change", args=[child.task_id])
    ).content.decode()

    assert reverse("admin:tasks_api_tasklaunch_change", args=[child.task_id]) in page
    assert "SUCCESS" in page
    assert reverse("admin:tasks_api_tasklaunch_change", args=[again.task_id]) in page
    assert reverse("admin:django_celery_beat_periodictask_change", args=[schedule.pk]) in page
    assert reverse("admin:tasks_api_tasklaunch_change", args=[parent.task_id]) in child_page


def test_relaunch_asks_for_confirmation_listing_what_will_happen(client, superuser):
    run = failed_run()

    page = act(client, "relaunch_selected", [run], confirm=False).content.decode()

    assert "Relaunch 1 task run(s)?" in page
    assert "new sii.sync_documents run with params" in page
    assert TaskLaunch.objects.count() == 1


def test_relaunch_creates_a_linked_run_with_the_same_params_and_names_it(
    client, superuser, django_capture_on_commit_callbacks
):
    run = failed_run()

    with django_capture_on_commit_callbacks(execute=False):
        page = act(client, "relaunch_selected", [run]).content.decode()

    again = TaskLaunch.objects.get(relaunch_of=run)
    assert (again.task_type, again.params, again.user, again.launched_by) == (
        run.task_type,
        run.params,
        superuser,
        "user",
    )
    assert "Relaunched as" in page
    assert again.task_id in page


def test_a_fan_out_is_not_relaunched_while_another_run_of_it_is_active(client, superuser):
    finished = TaskLaunchFactory(task_type="sii.sync_f29_all_companies", params={"year": "2025"})
    stored(finished, "SUCCESS", {"success": True})
    active = TaskLaunchFactory(task_type="sii.sync_f29_all_companies", params={"year": "2025"})

    page = act(client, "relaunch_selected", [finished]).content.decode()

    assert f"already running as task {active.task_id}" in page
    assert not TaskLaunch.objects.filter(relaunch_of=finished).exists()


def test_revoke_skips_finished_runs_and_keeps_their_result(client, superuser):
    finished = failed_run()
    waiting = TaskLaunchFactory()

    page = act(client, "revoke_selected", [finished, waiting]).content.decode()

    assert TaskResult.objects.get(task_id=finished.task_id).status == "FAILURE"
    assert TaskResult.objects.get(task_id=waiting.task_id).status == "REVOKED"
    assert "had already finished (FAILURE)" in page


def test_the_revoke_confirmation_says_what_happens_to_each_run(client, superuser):
    finished, waiting = failed_run(), TaskLaunchFactory()

    page = act(client, "revoke_selected", [finished, waiting], confirm=False).content.decode()

    assert "finished (FAILURE): left as it is" in page
    assert "waiting: will never run" in page


def test_actions_need_their_permissions(client):
    run = TaskLaunchFactory()
    staff_with(client, "view_tasklaunch", "revoke_task")

    page = client.get(CHANGELIST).content.decode()

    assert "revoke_selected" in page
    assert "relaunch_selected" not in page
    assert "terminate_selected" not in page
    act(client, "terminate_selected", [run])
    assert not TaskLaunch.objects.get(pk=run.pk).is_revoked


def test_runs_cannot_be_added_edited_or_deleted_in_the_admin(client, superuser):
    run = TaskLaunchFactory()

    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(reverse("admin:tasks_api_tasklaunch_delete", args=[run.task_id])).status_code == 403


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"year": "25"}, "year must be a four-digit year (YYYY)"),
        ({"year": "2999"}, "year must be between 2000 and"),
        ({}, "company_id is required"),
    ],
)
def test_the_launch_form_gives_the_api_s_error_messages(client, superuser, data, message):
    data = {"company_id": str(uuid.uuid4()), **data} if data else {"year": "2024"}

    page = client.post(
        reverse("admin:tasks_api_tasklaunch_launch_type", args=["sii.sync_f29"]), data
    ).content.decode()

    assert message in page
    assert not TaskLaunch.objects.exists()


def test_launching_from_the_admin_records_the_user_and_opens_the_new_run(
    client, superuser, django_capture_on_commit_callbacks
):
    company_id = str(CompanyFactory().pk)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("admin:tasks_api_tasklaunch_launch_type", args=["sii.sync_f29"]),
            {"company_id": company_id, "year": "2024"},
        )

    launch = TaskLaunch.objects.get()
    assert (launch.params, launch.user, launch.launched_by) == (
        {"company_id": company_id, "year": "2024"},
        superuser,
        "user",
    )
    assert response.url == reverse("admin:tasks_api_tasklaunch_change", args=[launch.task_id])


def test_a_user_without_launch_permission_cannot_open_the_launch_form(client):
    staff_with(client, "view_tasklaunch")

    assert client.get(reverse("admin:tasks_api_tasklaunch_launch")).status_code == 403


def test_the_raw_task_result_admin_links_to_the_run(client, superuser):
    run = failed_run()
    result = TaskResult.objects.get(task_id=run.task_id)

    page = client.get(
        reverse("admin:django_celery_results_taskresult_change", args=[result.pk])
    ).content.decode()

    assert reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id]) in page


def test_run_now_on_a_periodic_task_is_recorded_and_names_the_task_id(
    client, superuser, django_capture_on_commit_callbacks
):
    crontab = CrontabSchedule.objects.create(minute="0", hour="3")
    schedule = PeriodicTask.objects.create(
        name="nightly f29",
        task="sii.sync_f29_all_companies",
        crontab=crontab,
        kwargs=json.dumps({"year": "2024"}),
    )

    with django_capture_on_commit_callbacks(execute=False):
        page = client.post(
            "/admin/django_celery_beat/periodictask/",
            {"action": "run_now", "_selected_action": [schedule.pk]}, follow=True,
        ).content.decode()  # fmt: skip

    launch = TaskLaunch.objects.get()
    assert (launch.params, launch.periodic_task_name, launch.user) == (
        {"year": "2024"},
        "nightly f29",
        superuser,
    )
    assert launch.task_id in page
    listing = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert "periodic_task_name=nightly" in listing


@pytest.mark.django_db(transaction=True)  # publishing happens on commit; here, at once
def test_a_relaunch_the_broker_refuses_is_reported_not_a_500(client, superuser, unreachable_broker):
    run = failed_run()

    response = act(client, "relaunch_selected", [run])

    assert response.status_code == 200
    assert "Failed to launch task: " in response.content.decode()
    assert TaskLaunch.objects.get(relaunch_of=run).enqueued is False


def test_a_run_revoked_before_any_worker_started_it_shows_no_start(client, superuser):
    waiting = TaskLaunchFactory()
    act(client, "revoke_selected", [waiting])

    run = task_runs().get(pk=waiting.pk)

    assert (run.status, run.started_at) == ("REVOKED", None)
    assert run.finished_at is not None


RELAUNCH_FAILED = "/admin/tasks_api/tasklaunch/relaunch-failed/"


def test_the_list_fits_one_line_per_run_with_a_when_and_a_duration_column(client, superuser):
    failed_run()

    page = client.get(CHANGELIST).content.decode()

    assert "column-when" in page
    assert "column-run_time" in page
    assert "column-started" not in page
    assert "column-finished" not in page


def test_the_list_s_error_column_says_why_a_run_failed_or_why_its_last_attempt_did(client, superuser):
    failed_run()
    retrying = TaskLaunchFactory()
    stored(
        retrying, "RETRY", {"exc_type": "SiiUnavailable", "exc_message": ["the SII is down for maintenance"]}
    )
    stored(TaskLaunchFactory(), "SUCCESS", {"success": True})

    page = client.get(CHANGELIST).content.decode()

    assert "column-error_cell" in page
    assert 'title="getResumen: HTTP 503 from the SII."' in page
    assert 'title="the SII is down for maintenance"' in page


def test_relaunch_all_failed_keeps_the_list_s_filters_in_its_button(client, superuser):
    failed_run()

    page = client.get(CHANGELIST, {"task_type": "sii.sync_f29"}).content.decode()

    assert f"{RELAUNCH_FAILED}?task_type=sii.sync_f29" in page


def test_relaunch_all_failed_says_how_many_runs_it_will_relaunch(client, superuser):
    failed_run(), failed_run()
    relaunched = failed_run()
    TaskLaunchFactory(relaunch_of=relaunched)
    TaskLaunchFactory()  # pending: not failed

    page = client.get(RELAUNCH_FAILED).content.decode()

    assert "This will relaunch 2 failed runs" in page
    assert "1 more failed run(s) here were already relaunched and are skipped" in page
    assert TaskLaunch.objects.count() == 5


def test_relaunch_all_failed_relaunches_exactly_the_failed_runs_in_the_filter(
    client, superuser, django_capture_on_commit_callbacks
):
    documents, other = failed_run(), failed_run()
    TaskLaunch.objects.filter(pk=other.pk).update(task_type="sii.sync_f29")
    stored(TaskLaunchFactory(), "SUCCESS", {"success": True})

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"{RELAUNCH_FAILED}?task_type=sii.sync_documents", {"post": "yes"})

    assert response.url == f"{CHANGELIST}?task_type=sii.sync_documents"
    assert list(
        TaskLaunch.objects.filter(relaunch_of__isnull=False).values_list("relaunch_of", flat=True)
    ) == [documents.task_id]


def test_relaunch_all_failed_reports_the_runs_it_could_not_relaunch(client, superuser):
    finished = TaskLaunchFactory(task_type="sii.sync_f29_all_companies", params={"year": "2025"})
    stored(finished, "FAILURE", {"exc_type": "Boom", "exc_message": ["boom"]})
    active = TaskLaunchFactory(task_type="sii.sync_f29_all_companies", params={"year": "2025"})

    page = client.post(RELAUNCH_FAILED, {"post": "yes"}, follow=True).content.decode()

    assert f"already running as task {active.task_id}" in page
    assert not TaskLaunch.objects.filter(relaunch_of=finished).exists()


def test_relaunch_all_failed_needs_the_launch_permission(client):
    failed_run()
    staff_with(client, "view_tasklaunch")

    assert "relaunch-failed" not in client.get(CHANGELIST).content.decode()
    assert client.get(RELAUNCH_FAILED).status_code == 403


def test_relaunch_all_failed_refuses_filters_that_do_not_apply(client, superuser):
    assert client.get(RELAUNCH_FAILED, {"no_such_field__gt": "1"}).status_code == 400
