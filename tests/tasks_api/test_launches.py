"""Launch records: written before the publish, published after commit, children in batches."""

import uuid

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_results.models import TaskResult

from tasks_api.models import TaskLaunch
from tasks_api.redis_clients import server_failed
from tasks_api.selectors.launches import task_children_counts
from tasks_api.services.fanout import task_launch_children
from tasks_api.services.launches import TaskLaunchFailed, task_launch
from tests.processes import wait_for


@pytest.mark.django_db
def test_a_launch_is_recorded_and_published_only_once_its_transaction_commits(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        launch = task_launch(task_type="sii.sync_f29", params={"company_id": "x"}, launched_by="system")

    assert TaskLaunch.objects.get(pk=launch.pk).enqueued is None
    assert len(callbacks) == 1


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_children_are_recorded_with_three_statements_per_batch_and_all_run(
    celery_worker_process,
):
    parent = TaskLaunch.objects.create(task_type="sii.sync_documents_all_companies", launched_by="system")
    params = [{"company_id": str(uuid.uuid4())} for _ in range(30)]

    with CaptureQueriesContext(connection) as queries:
        published = task_launch_children(
            parent_task_id=str(parent.pk), task_type="sii.sync_documents", params_list=params, batch_size=10
        )

    assert published == 30
    statements = [q["sql"].split()[0] for q in queries if q["sql"] not in ("BEGIN", "COMMIT")]
    # Per batch: record (all new: nothing to read back), read the parent's revocation, mark enqueued.
    assert statements == ["INSERT", "SELECT", "UPDATE"] * 3
    children = TaskLaunch.objects.filter(parent=parent)
    assert {(c.launched_by, c.enqueued, str(c.subject_id)) for c in children} == {
        ("fanout", True, p["company_id"]) for p in params
    }
    counts = wait_for(
        lambda: (c := task_children_counts(parent_task_id=str(parent.pk)))["failed"] == 30 and c,
        timeout=60, what="the 30 children to fail with Company not found",
    )  # fmt: skip
    assert counts["pending"] == counts["running"] == counts["succeeded"] == 0
    assert TaskResult.objects.filter(result__contains="Company not found").count() == 30


@pytest.mark.django_db(transaction=True)
def test_children_the_broker_refused_are_recorded_as_not_enqueued(unreachable_broker):
    parent = TaskLaunch.objects.create(task_type="sii.sync_f29_all_companies", launched_by="system")
    params = [{"company_id": str(uuid.uuid4()), "year": "2025"} for _ in range(3)]

    with pytest.raises(TaskLaunchFailed, match=r"^Failed to launch task: "):
        task_launch_children(
            parent_task_id=str(parent.pk), task_type="sii.sync_f29", params_list=params, batch_size=10
        )

    children = TaskLaunch.objects.filter(parent=parent)
    assert children.count() == 3
    assert {(c.enqueued, bool(c.enqueue_error)) for c in children} == {(False, True)}


@pytest.mark.django_db(transaction=True)
def test_after_a_refused_publish_the_next_launches_fail_at_once_without_trying(unreachable_broker):
    with pytest.raises(TaskLaunchFailed):
        task_launch(task_type="sii.sync_f29", params={"company_id": str(uuid.uuid4())}, launched_by="system")

    with pytest.raises(TaskLaunchFailed, match="the broker is not tried again for"):
        task_launch(task_type="sii.sync_f29", params={"company_id": str(uuid.uuid4())}, launched_by="system")

    assert set(TaskLaunch.objects.values_list("enqueued", flat=True)) == {False}


@pytest.mark.django_db(transaction=True)
def test_while_another_call_finds_the_brokers_redis_mute_a_launch_fails_at_once_without_trying(
    quiet_broker,
):
    # As in compose, where REDIS_URL is the broker's Redis: the launch's rate count timed out.
    server_failed(current_app.conf.broker_url, redis.TimeoutError("Timeout reading from the broker"))

    with pytest.raises(TaskLaunchFailed, match=r"Timeout reading from the broker \(the broker is not tried"):
        task_launch(task_type="sii.sync_f29", params={"company_id": str(uuid.uuid4())}, launched_by="system")

    assert quiet_broker(settings.SII_QUEUE) == []  # a publish would have reached the (live) broker
    assert TaskLaunch.objects.get().status == "FAILURE"
