"""The admin's home: the dashboard's sections, its links to the runs behind each figure, its live part."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from tasks_api.models import TaskLaunch
from tasks_api.snapshots import snapshot_push, stats_key, stats_store
from tests.factories import TaskLaunchFactory, UserFactory
from tests.runs import failed_run, stored
from tests.tasks_api.conftest import user_in

pytestmark = pytest.mark.django_db
LIVE = "/admin/dashboard/live/"
PROGRESS = {"info": "Task is running", "current": 3, "total": 9, "step": "compras 202611"}


@pytest.fixture(autouse=True)
def quick_stats(settings):
    """The stats read a per-process cache, emptied before each test: not the session worker's pushes."""
    settings.TASKS_API_STATS_CACHE = "default"


def one_worker(name="celery@w1", active=()):
    """The stats service's answer with one worker, pushed as the worker pushes it."""
    stats = {
        "active_tasks": {name: [{"id": task_id, "name": "sii.sync_documents"} for task_id in active]},
        "scheduled_tasks": {name: []},
        "registered_tasks": ["sii.sync_documents"],
        "worker_stats": {
            name: {
                "pool": {"implementation": "celery.concurrency.prefork:TaskPool", "max-concurrency": 4},
                "total": {"sii.sync_documents": 41, "sii.sync_f29": 1},
                "uptime": 3725,
            }
        },
        "reserved_tasks": {name: []},
        "queues": {"celery": 0, "sii": 7},
        "workers_online": [name],
    }
    snapshot = {"active": stats["active_tasks"][name], "scheduled": [], "reserved": [],
                "registered": stats["registered_tasks"], "stats": stats["worker_stats"][name],
                "collected_at": "2026-01-02T03:04:05+00:00"}  # fmt: skip
    snapshot_push(app=celery_app, hostname=name, snapshot=snapshot)
    stats_store().set(stats_key(celery_app, "queues"), stats["queues"], 60)
    return stats


def running_run(meta=PROGRESS):
    launch = TaskLaunchFactory()
    stored(launch, "STARTED", meta)
    return launch


def hrefs(page: str, containing: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]*)"', page) if containing in unescape(href)]


def test_the_dashboard_is_the_admins_home_with_every_section(client, superuser):
    failed_run()
    running_run()
    one_worker()

    page = client.get("/admin/").content.decode()

    for section in (
        "Running now",
        "Runs per hour by final state",
        "Task types, last 24 hours",
        "Next beat runs",
    ):
        assert section in page
    assert "compras 202611, 3 of 9" in page
    assert "celery@w1" in page
    assert "0 of 4 busy" in page
    assert "7 waiting" in page
    assert 'class="chart"' in page
    assert 'data-type="bar"' in page


def test_the_chart_stacks_runs_per_hour_by_final_state(client, superuser):
    failed_run()

    page = client.get("/admin/").content.decode()

    data = json.loads(unescape(re.search(r'data-value="([^"]*)"', page).group(1)))
    options = json.loads(unescape(re.search(r'data-options="([^"]*)"', page).group(1)))
    assert [dataset["label"] for dataset in data["datasets"]] == ["SUCCESS", "FAILURE", "REVOKED"]
    assert data["datasets"][1]["data"][-1] == 1
    assert len(data["labels"]) == 24
    assert options["scales"]["x"]["stacked"]
    assert options["scales"]["y"]["stacked"]


def test_with_no_worker_online_the_dashboard_still_answers_and_says_so(client, superuser, quiet_broker):
    # quiet_broker: a broker database no worker listens on, even while the session's worker runs.
    running_run()

    answer = client.get("/admin/")

    assert answer.status_code == 200
    assert "No worker online" in answer.content.decode()


def test_the_failed_count_links_to_the_failed_runs_of_that_type_in_the_window(client, superuser):
    failed = failed_run()
    succeeded = TaskLaunchFactory()
    stored(succeeded, "SUCCESS", 1)

    page = client.get("/admin/").content.decode()
    (link,) = hrefs(page, "status=FAILURE&task_type=sii.sync_documents&")

    assert "created_at__gte=" in link
    listing = client.get(link)
    assert listing.status_code == 200  # an unknown filter would redirect to ?e=1
    assert failed.task_id[:8] in listing.content.decode()
    assert succeeded.task_id[:8] not in listing.content.decode()


def test_each_bar_of_the_chart_leads_to_the_runs_of_its_hour_and_state(client, superuser):
    failed = failed_run()
    earlier = failed_run()
    TaskLaunch.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(hours=3))

    page = client.get("/admin/").content.decode()
    links = json.loads(re.search(r'id="runs-chart-links"[^>]*>(.*?)</script>', page).group(1))

    listing = client.get(links[1][-1]).content.decode()  # FAILURE, the current hour
    assert failed.task_id[:8] in listing
    assert earlier.task_id[:8] not in listing


def test_the_count_cards_link_to_their_lists(client, superuser):
    running_run()

    page = client.get("/admin/").content.decode()

    assert hrefs(page, "?status=STARTED")
    assert hrefs(page, "status=FAILURE&created_at__gte=")
    assert hrefs(page, reverse("admin:workers"))


def test_the_dashboard_takes_a_handful_of_queries(client, superuser, django_assert_max_num_queries):
    failed_run()
    running_run()
    one_worker()

    with django_assert_max_num_queries(12):
        client.get("/admin/")


def test_a_staff_user_without_the_runs_permission_gets_the_plain_app_list(client):
    client.force_login(UserFactory(is_staff=True))

    page = client.get("/admin/").content.decode()

    assert "Running now" not in page


def test_the_live_part_polls_while_something_runs(client, superuser):
    running_run()

    answer = client.get(LIVE)

    assert answer.status_code == 200
    page = answer.content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert ">Live<" in page.replace("\n", "").replace(" ", "")
    assert "compras 202611, 3 of 9" in page


def test_the_live_part_answers_286_and_up_to_date_when_nothing_runs(client, superuser):
    stored(TaskLaunchFactory(), "SUCCESS", 1)

    answer = client.get(LIVE)

    assert answer.status_code == 286
    page = answer.content.decode()
    assert "Up to date" in page
    assert "hx-get" not in page


def test_the_page_starts_polling_only_when_something_runs(client, superuser):
    assert f'hx-get="{LIVE}"' not in client.get("/admin/").content.decode()

    running_run()

    assert f'hx-get="{LIVE}"' in client.get("/admin/").content.decode()


def test_the_live_part_is_for_staff_only(client):
    answer = client.get(LIVE)

    assert answer.status_code == 302
    assert "/admin/login/" in answer.url


def test_the_live_part_needs_the_runs_view_permission(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(LIVE).status_code == 403


def test_a_viewer_sees_the_live_part(client):
    client.force_login(user_in("task viewers", username="watcher", is_staff=True))
    running_run()

    assert client.get(LIVE).status_code == 200


def test_running_runs_link_to_their_page(client, superuser):
    run = running_run()

    page = client.get(LIVE).content.decode()

    assert reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id]) in page
