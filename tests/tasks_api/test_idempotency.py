"""Idempotency-Key on launch and relaunch: a retry replays the first answer; nothing launches twice."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from tasks_api.models import IdempotencyKey, TaskLaunch
from tasks_api.services import catalog as catalog_service
from tasks_api.services.idempotency import idempotency_keys_expire
from tasks_api.worker.tasks import reconcile_runs
from tests.factories import CompanyFactory, TaskLaunchFactory, UserFactory
from tests.tasks_api.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def unthrottled(settings):
    settings.TASKS_API_LAUNCH_RATE = "10000/min"


@pytest.fixture
def body(db) -> dict:
    return {
        "task_type": "sii.sync_documents",
        "params": {"company_id": str(CompanyFactory().pk), "months": 2},
    }


def launch(client, body, key=None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/api/celery/tasks/launch", body, format="json", **headers)


def relaunch(client, task_id, key):
    return client.post(f"/api/celery/tasks/{task_id}/relaunch", HTTP_IDEMPOTENCY_KEY=key)


def test_the_same_key_and_body_returns_the_first_answer_and_launches_once(api, body):
    first = launch(api, body, "key-1")
    again = launch(api, {"params": dict(reversed(body["params"].items())), **body}, "key-1")

    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (202, first.json())
    assert TaskLaunch.objects.count() == 1


def test_without_a_key_every_launch_is_a_new_run(api, body):
    assert launch(api, body).json()["task_id"] != launch(api, body).json()["task_id"]


def test_the_same_key_with_another_body_answers_422(api, body):
    launch(api, body, "key-1")

    response = launch(api, {**body, "params": {**body["params"], "months": 3}}, "key-1")

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Idempotency-Key was already used for a different request; use a new key for a new launch"
    )
    assert TaskLaunch.objects.count() == 1


def test_keys_are_per_user(api, body):
    other = client_for(UserFactory(username="other", is_superuser=True))

    assert launch(api, body, "shared").json()["task_id"] != launch(other, body, "shared").json()["task_id"]


def test_a_refused_launch_keeps_no_key(api, body):
    assert launch(api, {"task_type": "nope"}, "key-1").status_code == 422

    assert launch(api, body, "key-1").status_code == 202


def test_a_relaunch_with_the_same_key_and_target_replays_and_another_target_answers_422(api):
    original, other = TaskLaunchFactory(), TaskLaunchFactory()

    first = relaunch(api, original.task_id, "r-1")
    again = relaunch(api, original.task_id, "r-1")

    assert (again.status_code, again.json()) == (202, first.json())
    assert relaunch(api, other.task_id, "r-1").status_code == 422
    assert TaskLaunch.objects.filter(relaunch_of__isnull=False).count() == 1


def test_a_launch_key_reused_for_a_relaunch_answers_422(api, body):
    launch(api, body, "k")

    assert relaunch(api, TaskLaunchFactory().task_id, "k").status_code == 422


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "tab\tkey", "ñandú"])
def test_a_key_empty_too_long_or_not_visible_ascii_answers_400(api, body, key):
    response = launch(api, body, key)

    assert response.status_code == 400
    assert (
        response.json()["detail"] == "Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces)"
    )
    assert not TaskLaunch.objects.exists()


def test_a_key_past_its_24_hours_launches_again_and_the_reconciler_deletes_old_keys(api, body):
    first = launch(api, body, "old").json()["task_id"]
    launch(api, body, "recent")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    assert launch(api, body, "old").json()["task_id"] != first
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_keys_expire() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]


def test_the_periodic_reconcile_task_expires_keys(monkeypatch):
    monkeypatch.setattr("tasks_api.worker.tasks.runs_reconcile", lambda: {"published": 0})
    user = UserFactory()
    IdempotencyKey.objects.create(user=user, key="k", fingerprint="f")
    IdempotencyKey.objects.filter(key="k").update(created_at=timezone.now() - timedelta(days=2))

    assert reconcile_runs() == {
        "published": 0, "expired_runs": 0, "expired_idempotency_keys": 1, "expired_api_tokens": 0
    }  # fmt: skip


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's shared in-memory test database fails concurrent writers at once; make test runs on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_never_launch_twice(monkeypatch, quiet_broker):
    user = UserFactory(is_superuser=True)
    caches["shared"].clear()
    company = CompanyFactory()
    body = {"task_type": "sii.sync_documents", "params": {"company_id": str(company.pk)}}
    launched = catalog_service.task_launch_validated
    barrier = threading.Barrier(2)

    def slow_launch(**kwargs):  # the first holds its transaction open while the second arrives
        threading.Event().wait(0.5)
        return launched(**kwargs)

    monkeypatch.setattr("tasks_api.api.views.task_launch_validated", slow_launch)
    answers = []

    def post():
        barrier.wait()
        answers.append(launch(client_for(user), body, "same").json())
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(answers) == 2
    assert answers[0] == answers[1]
    assert TaskLaunch.objects.count() == 1
    assert quiet_broker(settings.SII_ONDEMAND_QUEUE) == [answers[0]["task_id"]]
