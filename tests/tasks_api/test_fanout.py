"""Fan-out children: replayable after a killed parent, and stopped by the parent's revocation."""

import uuid

import pytest
from django.conf import settings

from tasks_api.models import TaskLaunch
from tasks_api.selectors.status import task_status_get
from tasks_api.services.fanout import child_task_id, task_launch_children
from tasks_api.services.launches import TaskRevoked
from tasks_api.services.revocations import task_revoke
from tests.factories import TaskLaunchFactory
from tests.runs import delivered

pytestmark = pytest.mark.django_db


def f29_params(count: int) -> list[dict]:
    return [{"company_id": str(uuid.uuid4()), "year": "2025"} for _ in range(count)]


@pytest.fixture
def parent():
    return TaskLaunchFactory(task_type="sii.sync_f29_all_companies", params={"year": "2025"})


def launch_children(parent, params, batch_size=10) -> int:
    return task_launch_children(
        parent_task_id=parent.task_id, task_type="sii.sync_f29", params_list=params, batch_size=batch_size
    )


def test_a_child_has_the_same_id_whenever_its_parent_records_it():
    params = {"company_id": "123e4567-e89b-12d3-a456-426614174000", "year": "2025"}

    first = child_task_id(parent_task_id="p-1", params=params)

    assert first == child_task_id(parent_task_id="p-1", params=dict(reversed(params.items())))
    assert first != child_task_id(parent_task_id="p-2", params=params)


def test_a_redelivered_parent_publishes_only_the_children_still_unpublished(parent, quiet_broker):
    params = f29_params(5)
    launch_children(parent, params[:2])  # the first delivery published two children, then died
    unpublished = child_task_id(parent_task_id=parent.task_id, params=params[2])
    TaskLaunchFactory(task_id=unpublished, parent=parent, params=params[2], enqueued=None)  # recorded only

    published = launch_children(parent, params, batch_size=2)

    queued = quiet_broker(settings.SII_QUEUE)
    assert published == 5
    assert sorted(queued) == sorted(
        TaskLaunch.objects.filter(parent=parent).values_list("task_id", flat=True)
    )
    assert len(queued) == len(set(queued)) == 5
    assert set(TaskLaunch.objects.filter(parent=parent).values_list("enqueued", flat=True)) == {True}


def test_children_of_a_parent_revoked_mid_dispatch_are_born_revoked_and_never_published(parent, quiet_broker):
    params = f29_params(4)

    class RevokedAfterTheFirstBatch(list):
        def __getitem__(self, index):
            if isinstance(index, slice) and index.start:
                task_revoke(task_id=parent.task_id)
            return super().__getitem__(index)

    with pytest.raises(TaskRevoked):
        launch_children(parent, RevokedAfterTheFirstBatch(params), batch_size=2)

    children = TaskLaunch.objects.filter(parent=parent)
    assert set(quiet_broker(settings.SII_QUEUE)) == set(
        children.filter(enqueued=True).values_list("pk", flat=True)
    )
    assert children.count() == 4
    assert children.filter(enqueued=True).count() == 2
    assert {task_status_get(task_id=child.task_id)["status"] for child in children} == {"REVOKED"}


def test_a_parent_revoked_mid_dispatch_says_its_children_are_done_once_none_can_run(parent, quiet_broker):
    params = f29_params(6)

    class RevokedAfterTheFirstBatch(list):
        def __getitem__(self, index):
            if isinstance(index, slice) and index.start:
                failed = TaskLaunch.objects.filter(parent=parent).first()  # one child ran, and failed
                delivered(failed, "FAILURE", {"exc_type": "SiiBadCredentials", "exc_message": ["clave"]})
                task_revoke(task_id=parent.task_id)  # revokes the other published child too
            return super().__getitem__(index)

    with pytest.raises(TaskRevoked):  # the batch it was recording is born revoked; then it stops
        launch_children(parent, RevokedAfterTheFirstBatch(params), batch_size=2)

    meta = task_status_get(task_id=parent.task_id)["meta"]
    assert meta["children"] == {
        "total": 4, "pending": 0, "running": 0, "succeeded": 0, "failed": 1, "revoked": 3,
    }  # fmt: skip
    assert meta["children_done"] is True


def test_ten_thousand_children_are_each_recorded_and_published_once_and_a_replay_publishes_only_the_rest(
    parent, quiet_broker
):
    params = f29_params(10_000)

    assert launch_children(parent, params, batch_size=500) == 10_000

    children = TaskLaunch.objects.filter(parent=parent)
    queued = quiet_broker(settings.SII_QUEUE)
    assert len(queued) == len(set(queued)) == 10_000
    assert set(queued) == set(children.values_list("task_id", flat=True))
    assert set(children.values_list("launched_by", "enqueued", "task_type")) == {
        ("fanout", True, "sii.sync_f29")
    }
    assert not children.filter(published_at=None).exists()
    assert sorted(str(s) for s in children.values_list("subject_id", flat=True)) == sorted(
        p["company_id"] for p in params
    )

    unpublished = [child_task_id(parent_task_id=parent.task_id, params=p) for p in params[::13]]
    children.filter(task_id__in=unpublished).update(enqueued=None, published_at=None)  # a killed parent's
    assert launch_children(parent, params, batch_size=500) == 10_000

    again = quiet_broker(settings.SII_QUEUE)
    assert sorted(again[: len(again) - 10_000]) == sorted(unpublished)  # queued on top of the first
    assert children.count() == 10_000
    assert not children.exclude(enqueued=True).exists()
