"""The run-status rule: its SQL form (admin lists) and its Python form (API) agree everywhere."""

import itertools

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api.selectors.runs import task_runs
from tasks_api.selectors.status import task_status_get
from tasks_api.states import STATUSES, run_status
from tests.factories import TaskLaunchFactory

pytestmark = pytest.mark.django_db
COMBINATIONS = list(itertools.product([None, *STATUSES], [None, True, False], [False, True]))


def launch_in(stored: str | None, enqueued: bool | None, revoked: bool):
    launch = TaskLaunchFactory(enqueued=enqueued, revoke_requested_at=timezone.now() if revoked else None)
    if stored is not None:
        TaskResult.objects.create(task_id=launch.task_id, status=stored, date_done=timezone.now())
    return launch


def test_the_sql_and_the_python_rule_agree_on_every_combination():
    launches = {launch_in(*combination).task_id: combination for combination in COMBINATIONS}

    in_sql = dict(task_runs().values_list("task_id", "status"))

    for task_id, (stored, enqueued, revoked) in launches.items():
        expected = run_status(stored=stored, enqueued=enqueued, revoke_requested=revoked)
        assert (in_sql[task_id], task_status_get(task_id=task_id)["status"]) == (expected, expected), (
            stored,
            enqueued,
            revoked,
        )


@pytest.mark.parametrize(
    ("stored", "enqueued", "revoked", "status"),
    [
        ("SUCCESS", False, True, "SUCCESS"),  # a stored state wins over everything
        ("PENDING", False, False, "FAILURE"),  # a PENDING row says nothing; the failed publish does
        (None, True, True, "REVOKED"),
        (None, None, False, "PENDING"),
    ],
)
def test_a_stored_state_wins_then_a_failed_publish_then_a_revoke(stored, enqueued, revoked, status):
    assert run_status(stored=stored, enqueued=enqueued, revoke_requested=revoked) == status
