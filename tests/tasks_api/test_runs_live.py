"""The live partials: small, cheap, permission-checked, and 286 ("stop polling") when idle."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import TaskLaunchFactory, UserFactory
from tests.runs import CHANGELIST, failed_run, stored

pytestmark = pytest.mark.django_db
FANOUT = "sii.sync_documents_all_companies"


def live_url(run) -> str:
    return reverse("admin:tasks_api_tasklaunch_live", args=[run.task_id])


def children_url(run) -> str:
    return reverse("admin:tasks_api_tasklaunch_children", args=[run.task_id])


def rows_url() -> str:
    return reverse("admin:tasks_api_tasklaunch_live_rows")


def test_a_running_run_s_partial_answers_200_with_its_progress(client, superuser):
    run = TaskLaunchFactory()
    stored(run, "STARTED", {"current": 2, "total": 3, "step": "f29 202602"})

    response = client.get(live_url(run))

    assert response.status_code == 200
    assert "f29 202602, 2 of 3" in response.content.decode()
    assert 'hx-trigger="every 2s"' in response.content.decode()


def test_a_finished_run_s_partial_answers_286_to_stop_polling(client, superuser):
    response = client.get(live_url(failed_run()))

    assert response.status_code == 286
    assert "Up to date" in response.content.decode()
    assert "hx-trigger" not in response.content.decode()


def test_a_finished_parent_keeps_polling_while_children_run(client, superuser):
    parent = TaskLaunchFactory(task_type=FANOUT, params={})
    stored(parent, "SUCCESS", {"success": True})
    TaskLaunchFactory(parent=parent, launched_by="fanout")

    assert client.get(live_url(parent)).status_code == 200
    assert client.get(children_url(parent)).status_code == 200


def test_the_children_partial_answers_286_when_every_child_and_the_parent_finished(client, superuser):
    parent = TaskLaunchFactory(task_type=FANOUT, params={})
    stored(parent, "SUCCESS", {"success": True})
    stored(TaskLaunchFactory(parent=parent, launched_by="fanout"), "SUCCESS", {})

    assert client.get(children_url(parent)).status_code == 286


@pytest.mark.parametrize("query", [{"status": "BOGUS"}, {"page": "zero"}, {"page": "-1"}])
def test_the_children_partial_refuses_bad_filters_with_400(client, superuser, query):
    parent = TaskLaunchFactory(task_type=FANOUT, params={})

    assert client.get(children_url(parent), query).status_code == 400


def test_an_unknown_run_s_partial_is_404(client, superuser):
    assert client.get(reverse("admin:tasks_api_tasklaunch_live", args=["nope"])).status_code == 404


def test_the_list_s_rows_partial_updates_cells_out_of_band_while_runs_run(client, superuser):
    running, finished = TaskLaunchFactory(), failed_run()
    stored(running, "STARTED", {})

    response = client.get(rows_url(), {"id": [running.task_id, finished.task_id]})

    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="run-status-{running.task_id}" hx-swap-oob="true"' in page
    assert f'id="run-status-{finished.task_id}" hx-swap-oob="true"' in page
    assert f"id={running.task_id}" in page
    assert f"id={finished.task_id}" not in page.split("hx-get")[1][:200]


def test_the_list_s_rows_partial_answers_286_once_they_all_finished(client, superuser):
    response = client.get(rows_url(), {"id": [failed_run().task_id]})

    assert response.status_code == 286
    assert "Up to date" in response.content.decode()


def test_the_list_polls_only_while_a_run_on_it_is_unfinished(client, superuser):
    failed_run()
    idle = client.get(CHANGELIST).content.decode()
    TaskLaunchFactory()
    busy = client.get(CHANGELIST).content.decode()

    assert 'id="runs-live" hx-get' not in idle
    assert "Up to date" in idle
    assert 'id="runs-live" hx-get' in busy


def test_each_poll_costs_at_most_three_queries_of_its_own(client, superuser, django_assert_max_num_queries):
    parent = TaskLaunchFactory(task_type=FANOUT, params={}, deliveries=1)
    TaskLaunchFactory(parent=parent, launched_by="fanout")
    client.get(live_url(parent))  # the session and user are read once per request: 2 more

    with django_assert_max_num_queries(5):  # the run, its children's counts, its attempts
        client.get(live_url(parent))
    with django_assert_max_num_queries(5):  # the counts, then the page's ids and its rows
        client.get(children_url(parent))
    with django_assert_max_num_queries(3):
        client.get(rows_url(), {"id": [parent.task_id]})


@pytest.mark.parametrize("url", ["live", "children", "rows"])
def test_the_partials_need_the_view_permission(client, url):
    run = TaskLaunchFactory()
    user = UserFactory(is_staff=True)
    client.force_login(user)
    target = {"live": live_url(run), "children": children_url(run), "rows": rows_url()}[url]

    assert client.get(target).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_tasklaunch"))
    assert client.get(target).status_code in (200, 286)


def test_the_partials_need_a_staff_login(client):
    response = client.get(live_url(TaskLaunchFactory()))

    assert response.status_code == 302
    assert "/login/" in response.url


def test_too_many_ids_is_a_clear_400(client, superuser):
    response = client.get(rows_url(), {"id": [f"id-{n}" for n in range(201)]})

    assert response.status_code == 400


def test_the_children_table_keeps_polling_while_its_parent_still_runs(client, superuser):
    parent = TaskLaunchFactory(task_type=FANOUT, params={})
    stored(parent, "STARTED", {})

    page = client.get(reverse("admin:tasks_api_tasklaunch_change", args=[parent.task_id])).content.decode()

    assert client.get(children_url(parent)).status_code == 200
    assert 'id="run-children" class="flex flex-col gap-3 mb-6" hx-get' in page
