"""GET /api/celery/stats: one broadcast, a short timeout, a brief cache."""

import pytest
from celery import Celery
from django.conf import settings

from tasks_api.selectors.stats import celery_stats_get

pytestmark = pytest.mark.django_db
CONTRACT_KEYS = {"active_tasks", "scheduled_tasks", "registered_tasks", "worker_stats"}


@pytest.mark.timeout(15)  # a hang is the failure this guards against; speed is not measured here
def test_with_no_worker_stats_answer_with_empty_maps_not_an_error():
    # A broker database no worker listens on; not made the current app.
    lonely = Celery(broker=settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + "/14", set_as_current=False)

    stats = celery_stats_get(app=lonely)

    assert stats["active_tasks"] == stats["scheduled_tasks"] == stats["worker_stats"] == {}
    assert stats["registered_tasks"] == stats["workers_online"] == []


@pytest.mark.e2e
def test_stats_show_the_worker_its_tasks_and_the_queues(viewer_api, celery_worker_process):
    response = viewer_api.get("/api/celery/stats")

    assert response.status_code == 200
    stats = response.json()
    assert set(stats) >= CONTRACT_KEYS
    (worker,) = stats["workers_online"]
    assert {"sii.sync_documents", "sii.sync_f29_all_companies"} <= set(stats["registered_tasks"])
    assert stats["worker_stats"][worker]["pool"]["max-concurrency"] == 2
    assert stats["active_tasks"][worker] == []
    assert set(stats["queues"]) == {settings.SII_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE}


def test_a_viewer_may_read_stats_but_not_anonymous_users(viewer_api, client):
    assert viewer_api.get("/api/celery/stats").status_code == 200
    assert client.get("/api/celery/stats").status_code == 401
