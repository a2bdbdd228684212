"""Which queue a launch waits in: users' launches in their on-demand queue, all else where routed."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from kombu import Exchange, Queue

from config.celery import app as celery_app
from tasks_api.models import TaskLaunch
from tasks_api.services.fanout import task_launch_children
from tasks_api.services.launches import launch_queue, task_launch, task_relaunch
from tasks_api.services.reconcile import runs_reconcile
from tasks_api.worker.delivery import delivered_queue
from tests.factories import TaskLaunchFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ONDEMAND, ROUTED = settings.SII_ONDEMAND_QUEUE, settings.SII_QUEUE


def f29(**extra) -> dict:
    return {"task_type": "sii.sync_f29", "params": {"company_id": str(uuid.uuid4()), "year": "2025"}, **extra}


def test_a_users_launch_and_relaunch_wait_in_the_on_demand_queue(quiet_broker):
    launch = task_launch(**f29(launched_by="user"))
    again = task_relaunch(launch=launch, user=UserFactory())

    assert quiet_broker(ONDEMAND) == [again.task_id, launch.task_id]  # a Redis list: the newest first
    assert quiet_broker(ROUTED) == []


def test_fan_out_children_beat_and_system_launches_wait_in_the_routed_queue(quiet_broker):
    parent = TaskLaunchFactory(task_type="sii.sync_f29_all_companies", params={"year": "2025"})
    task_launch_children(
        parent_task_id=parent.task_id, task_type="sii.sync_f29", params_list=[f29()["params"]], batch_size=10
    )
    by_system = task_launch(**f29(launched_by="system"))
    # Beat publishes through Celery itself (the launch is recorded by the publish signal).
    by_beat = celery_app.send_task(
        "sii.sync_f29", kwargs=f29()["params"], headers={"periodic_task_name": "n"}
    )

    child = TaskLaunch.objects.get(parent=parent)
    assert quiet_broker(ROUTED) == [by_beat.id, by_system.task_id, child.task_id]  # the newest first
    assert TaskLaunch.objects.get(task_id=by_beat.id).launched_by == "beat"
    assert quiet_broker(ONDEMAND) == []


def test_the_reconciler_publishes_a_run_again_to_the_queue_its_launcher_chose(quiet_broker):
    users = TaskLaunchFactory(enqueued=None, launched_by="user")
    childs = TaskLaunchFactory(enqueued=None, launched_by="fanout")
    TaskLaunch.objects.update(created_at=timezone.now() - timedelta(minutes=2))

    assert runs_reconcile()["published"] == 2

    assert (quiet_broker(ONDEMAND), quiet_broker(ROUTED)) == ([users.task_id], [childs.task_id])


def test_a_users_launch_of_a_task_whose_queue_has_no_on_demand_queue_goes_where_routed(settings):
    assert launch_queue(task_type="sii.sync_f29", launched_by="user") == ONDEMAND
    assert launch_queue(task_type="tasks_api.reconcile_runs", launched_by="user") is None

    settings.TASKS_API_ONDEMAND_QUEUES = {}

    assert launch_queue(task_type="sii.sync_f29", launched_by="user") is None


def test_workers_take_on_demand_runs_first_then_the_default_queue_then_the_children(quiet_broker):
    parent = TaskLaunchFactory(task_type="sii.sync_f29_all_companies", params={"year": "2025"})
    params = [f29()["params"] for _ in range(3)]
    task_launch_children(
        parent_task_id=parent.task_id, task_type="sii.sync_f29", params_list=params, batch_size=10
    )
    celery_app.send_task("tasks_api.reconcile_runs")
    for _ in range(2):
        task_launch(**f29(launched_by="user"))

    # A worker's consumer: the declared queues in their order, one message at a time.
    taken: list[str] = []
    with celery_app.connection_for_read() as connection:
        consumer = celery_app.amqp.TaskConsumer(connection, queues=list(celery_app.amqp.queues.values()))
        consumer.qos(prefetch_count=1)
        consumer.register_callback(
            lambda _, message: taken.append(message.delivery_info["routing_key"]) or message.ack()
        )
        with consumer:
            while len(taken) < 6:
                connection.drain_events(timeout=5)

    assert taken == [ONDEMAND, ONDEMAND, settings.CELERY_TASK_DEFAULT_QUEUE, ROUTED, ROUTED, ROUTED]


@pytest.mark.parametrize(
    ("delivery_info", "queue"),
    [
        ({"exchange": "", "routing_key": "sii_ondemand"}, "sii_ondemand"),  # Redis, the file system
        ({"exchange": "sii_ondemand", "routing_key": "sii_ondemand"}, "sii_ondemand"),  # RabbitMQ
        ({"exchange": "celery_delayed_delivery", "routing_key": "0." * 28 + "sii_ondemand"}, "sii_ondemand"),
        ({"exchange": "celery", "routing_key": "celery"}, None),  # every Redis queue is bound so
        (None, None),  # called directly
    ],
)
def test_a_retry_knows_the_queue_its_delivery_came_from(delivery_info, queue):
    queues = [Queue(name, Exchange(name, type="topic"), routing_key=name) for name in ("sii", "sii_ondemand")]
    queues.append(Queue("celery", Exchange("celery"), routing_key="celery"))
    queues.append(Queue("other", Exchange("celery"), routing_key="celery"))

    assert delivered_queue(delivery_info=delivery_info, queues=queues) == queue
