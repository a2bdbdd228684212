"""API tokens: knox's tokens checked in one query, with the same refusals as knox's own scheme."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tasks_api.services.api_tokens import api_tokens_expire
from tests.factories import TaskLaunchFactory, UserFactory
from tests.tasks_api.conftest import client_for, user_in

pytestmark = pytest.mark.django_db


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_an_operators_token_grants_exactly_the_groups_permissions():
    client = client_for(user_in("task viewers"))

    assert client.get("/api/celery/tasks").status_code == 200
    assert client.post("/api/celery/tasks/launch", {"task_type": "x"}, format="json").status_code == 403


def test_an_expired_token_answers_401_and_is_deleted():
    token_row, token = AuthToken.objects.create(
        user=UserFactory(is_superuser=True), expiry=timedelta(seconds=1)
    )
    AuthToken.objects.filter(pk=token_row.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    response = with_token(token).get("/api/celery/tasks")

    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})
    assert not AuthToken.objects.filter(pk=token_row.pk).exists()


def test_a_token_whose_user_was_deactivated_answers_401():
    user = UserFactory(is_superuser=True)
    _, token = AuthToken.objects.create(user=user, expiry=None)
    user.is_active = False
    user.save()

    response = with_token(token).get("/api/celery/tasks")

    assert (response.status_code, response.json()) == (401, {"detail": "User inactive or deleted."})


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"), lambda t: t[:15], lambda t: "é" * 64]
)
def test_a_token_that_is_not_a_stored_one_answers_401_even_with_a_known_prefix(mangle):
    _, token = AuthToken.objects.create(user=UserFactory(is_superuser=True), expiry=None)

    response = with_token(mangle(token)).get("/api/celery/tasks")

    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})


def test_a_deleted_token_is_refused_on_the_very_next_request():
    token_row, token = AuthToken.objects.create(user=UserFactory(is_superuser=True), expiry=None)
    client = with_token(token)
    assert client.get("/api/celery/tasks").status_code == 200

    token_row.delete()

    assert client.get("/api/celery/tasks").status_code == 401


def test_a_status_poll_takes_one_query_for_the_token_and_user_and_one_for_the_run(django_assert_num_queries):
    client = client_for(UserFactory(is_superuser=True))
    task_id = TaskLaunchFactory().task_id

    with django_assert_num_queries(2):
        assert client.get(f"/api/celery/tasks/{task_id}").status_code == 200


def test_a_users_permissions_from_their_groups_and_their_own_take_one_query(django_assert_num_queries):
    client = client_for(user_in("task viewers"))
    task_id = TaskLaunchFactory().task_id

    with django_assert_num_queries(3):
        assert client.get(f"/api/celery/tasks/{task_id}").status_code == 200


def test_the_reconciler_deletes_expired_tokens_and_keeps_the_others():
    user = UserFactory()
    expired, _ = AuthToken.objects.create(user=user, expiry=timedelta(seconds=1))
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    kept, _ = AuthToken.objects.create(user=user, expiry=None)

    assert api_tokens_expire() == 1
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [kept.pk]
