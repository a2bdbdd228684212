"""The workers and queues page: what the API's stats service says, for operators."""

import pytest
from django.urls import reverse

from config.celery import app as celery_app
from tasks_api.snapshots import stats_key, stats_store
from tests.factories import UserFactory
from tests.tasks_api.conftest import user_in
from tests.tasks_api.test_dashboard import one_worker

pytestmark = pytest.mark.django_db
WORKERS = "/admin/workers/"


@pytest.fixture(autouse=True)
def quick_stats(settings):
    settings.TASKS_API_STATS_CACHE = "default"  # emptied before each test: not the session worker's pushes


def test_the_page_is_under_the_admins_urls():
    assert reverse("admin:workers") == WORKERS


def test_each_worker_shows_concurrency_load_processed_pool_and_uptime(client, superuser):
    one_worker(active=["0b5c8d3e-0000-4000-8000-000000000001"])

    page = client.get(WORKERS).content.decode()

    assert "celery@w1" in page
    assert "1 of 4 busy" in page
    assert ">42<" in page.replace(" ", "").replace("\n", "")  # processed: 41 + 1
    assert "prefork" in page
    assert "1 h 2 min" in page  # uptime 3,725 s
    assert reverse("admin:tasks_api_tasklaunch_change", args=["0b5c8d3e-0000-4000-8000-000000000001"]) in page


def test_each_queue_shows_its_depth_and_links_to_the_waiting_runs(client, superuser):
    one_worker()

    page = client.get(WORKERS).content.decode()

    assert "sii" in page
    assert ">7<" in page.replace(" ", "").replace("\n", "")
    assert f"{reverse('admin:tasks_api_tasklaunch_changelist')}?status=PENDING" in page


def test_the_page_reads_the_same_stats_the_api_answers(client, superuser):
    stats = one_worker(name="celery@shared")

    api = client.get("/api/celery/stats").json()
    page = client.get(WORKERS).content.decode()

    assert api["workers_online"] == stats["workers_online"] == ["celery@shared"]
    assert "celery@shared" in page


def test_with_no_worker_online_the_page_answers_and_says_so(client, superuser, quiet_broker):
    # quiet_broker: a broker database no worker listens on, even while the session's worker runs.
    answer = client.get(WORKERS)

    assert answer.status_code == 200
    assert "No worker online" in answer.content.decode()


def test_a_queue_the_broker_could_not_read_shows_as_unknown(client, superuser):
    one_worker()
    stats_store().set(stats_key(celery_app, "queues"), {"sii": None}, 60)

    assert "unknown (broker unreachable)" in client.get(WORKERS).content.decode()


def test_the_dashboard_links_to_the_page(client, superuser):
    assert f'href="{WORKERS}"' in client.get("/admin/").content.decode()


def test_the_page_is_for_staff_with_the_runs_view_permission(client):
    assert client.get(WORKERS).status_code == 302
    client.force_login(UserFactory(is_staff=True))
    assert client.get(WORKERS).status_code == 403
    client.force_login(user_in("task viewers", username="watcher", is_staff=True))
    assert client.get(WORKERS).status_code == 200
