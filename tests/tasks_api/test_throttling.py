"""Launches are rate-limited per user (429 with Retry-After); reads, status polling above all, never are."""

import time
import uuid

import pytest
from django.core.cache import caches

from tasks_api.api.throttles import LaunchRateThrottle
from tests.factories import CompanyFactory
from tests.processes import manage_check
from tests.tasks_api.conftest import client_for, user_in

pytestmark = pytest.mark.django_db
BODY = {"task_type": "sii.sync_documents", "params": {"company_id": "123e4567-e89b-12d3-a456-426614174000"}}


@pytest.fixture(autouse=True)
def two_launches_a_minute(settings):
    settings.TASKS_API_LAUNCH_RATE = "2/min"


@pytest.fixture(autouse=True)
def counts_of_this_test_only(monkeypatch):
    """Counts live in the shared Redis for two periods, and user ids repeat from one run (or
    test) to the next: a prefix of this test's own keeps earlier launches out of its counts."""
    prefix = f"throttle_{uuid.uuid4().hex}"
    monkeypatch.setattr(LaunchRateThrottle, "cache_format", f"{prefix}_%(scope)s_%(ident)s")
    return prefix


@pytest.fixture(autouse=True)
def launched_company(db):
    """BODY's company: a launch for one that does not exist is refused (422)."""
    return CompanyFactory(id=BODY["params"]["company_id"])


def launch(client):
    return client.post("/api/celery/tasks/launch", BODY, format="json")


def test_launches_past_the_rate_answer_429_with_retry_after_and_a_json_detail(api):
    assert [launch(api).status_code for _ in range(2)] == [202, 202]

    response = launch(api)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Request was throttled.")


def test_refused_launches_count_too(api):
    for _ in range(2):
        api.post("/api/celery/tasks/launch", {"task_type": "nope"}, format="json")

    assert launch(api).status_code == 429


def test_the_rate_is_per_user(api):
    for _ in range(3):
        launch(api)
    other = client_for(user_in("task operators", username="other-operator"))

    assert launch(other).status_code == 202


def test_status_polling_listing_and_stats_are_never_throttled_even_after_launches_are(api, settings):
    settings.TASKS_API_LAUNCH_RATE = "1/min"
    task_id = launch(api).json()["task_id"]
    assert launch(api).status_code == 429

    polls = [api.get(f"/api/celery/tasks/{task_id}").status_code for _ in range(20)]

    assert polls == [200] * 20
    assert api.get("/api/celery/tasks").status_code == 200


def test_revoking_is_not_throttled_by_the_launch_rate(api, settings):
    settings.TASKS_API_LAUNCH_RATE = "1/min"
    task_id = launch(api).json()["task_id"]
    assert launch(api).status_code == 429

    assert api.delete(f"/api/celery/tasks/{task_id}").status_code == 200


def test_the_rate_is_read_per_request_so_it_can_change_without_a_restart(api, settings):
    settings.TASKS_API_LAUNCH_RATE = "1/min"
    launch(api)
    assert launch(api).status_code == 429

    settings.TASKS_API_LAUNCH_RATE = "100/min"

    assert launch(api).status_code == 202


def test_launches_are_counted_in_the_cache_the_settings_name(
    api, operator, settings, counts_of_this_test_only
):
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"},
    }
    settings.TASKS_API_THROTTLE_CACHE = "throttle"

    launch(api)

    minute = int(time.time() // 60)
    keys = [f"{counts_of_this_test_only}_launch_{operator.pk}:{period}" for period in (minute - 1, minute)]
    assert (any(caches["throttle"].get_many(keys)), caches["default"].get_many(keys)) == (True, {})


@pytest.mark.parametrize("rate", ["fast", "60/fortnight", "-1/min"])
def test_a_malformed_launch_rate_stops_start_up_naming_the_variable(tmp_path, rate):
    done = manage_check(tmp_path, API_LAUNCH_RATE=rate)

    assert done.returncode != 0
    assert f"API_LAUNCH_RATE={rate!r} is not a rate like 60/min" in done.stderr


def test_a_drf_rate_is_accepted(tmp_path):
    assert manage_check(tmp_path, API_LAUNCH_RATE="1000/day").returncode == 0


def test_the_last_minutes_launches_still_count_for_the_part_of_it_inside_the_window(api, monkeypatch):
    clock = [600.0]  # the start of a minute
    monkeypatch.setattr(LaunchRateThrottle, "timer", lambda self: clock[0])
    assert [launch(api).status_code for _ in range(3)] == [202, 202, 429]

    clock[0] = 690.0  # half-way through the next minute: the two weigh one

    assert [launch(api).status_code for _ in range(2)] == [202, 429]
