"""Named API tokens: added beside the others, revoked one at a time, last use noted at most once a minute."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tasks_api.models import ApiTokenLabel
from tests.factories import TaskLaunchFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", is_superuser=True)


def create_token(capsys, name: str, *args: str) -> str:
    call_command("create_api_token", "ana", *args, name=name)
    return capsys.readouterr().out.strip()


def status_with(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/celery/tasks").status_code


def test_a_second_named_token_works_beside_the_first(ana, capsys):
    first, second = create_token(capsys, "laptop"), create_token(capsys, "ci")

    assert (status_with(first), status_with(second)) == (200, 200)
    assert set(ApiTokenLabel.objects.values_list("name", flat=True)) == {"laptop", "ci"}


def test_a_token_name_is_unique_per_user(ana, capsys):
    create_token(capsys, "ci")
    UserFactory(username="bea")
    call_command("create_api_token", "bea", name="ci")  # another user's "ci" is fine

    with pytest.raises(CommandError, match="ana already has a token named 'ci'"):
        create_token(capsys, "ci")
    assert AuthToken.objects.filter(user=ana).count() == 1


def test_expires_sets_the_tokens_expiry_in_days(ana, capsys):
    create_token(capsys, "ci", "--expires", "30")

    expiry = AuthToken.objects.get(user=ana).expiry
    assert timedelta(days=29, hours=23) < expiry - timezone.now() <= timedelta(days=30)


def test_without_expires_a_token_never_expires_by_default(ana, capsys):
    create_token(capsys, "ci")

    assert AuthToken.objects.get(user=ana).expiry is None


@pytest.mark.parametrize("by", ["name", "prefix"])
def test_revoking_one_token_refuses_it_and_keeps_the_other(ana, capsys, by):
    revoked, kept = create_token(capsys, "old"), create_token(capsys, "new")
    which = {"name": "old", "prefix": revoked[:8]}[by]

    call_command("revoke_api_token", "ana", **{by: which})

    assert (status_with(revoked), status_with(kept)) == (401, 200)


def test_revoking_by_a_prefix_that_matches_two_tokens_is_refused(ana):
    for name in ("a", "b"):
        token, _ = AuthToken.objects.create(user=ana, expiry=None)
        ApiTokenLabel.objects.create(token=token, user=ana, name=name)
    AuthToken.objects.update(token_key="abcd1234" + "0" * 7)

    with pytest.raises(CommandError, match="2 tokens of ana with prefix 'abcd'"):
        call_command("revoke_api_token", "ana", prefix="abcd")
    assert AuthToken.objects.count() == 2


@pytest.mark.parametrize("which", [{"name": "nope"}, {"prefix": "zzzz"}])
def test_revoking_a_token_that_does_not_exist_is_refused(ana, capsys, which):
    create_token(capsys, "ci")

    with pytest.raises(CommandError, match="ana has no token"):
        call_command("revoke_api_token", "ana", **which)
    assert AuthToken.objects.count() == 1


def test_revoking_needs_a_name_or_a_prefix(ana):
    with pytest.raises(CommandError, match="one of the arguments --name --prefix is required"):
        call_command("revoke_api_token", "ana")


def test_a_use_is_noted_once_a_minute_and_costs_no_query_in_between(ana, capsys, django_assert_num_queries):
    token = create_token(capsys, "ci")
    task_id = TaskLaunchFactory().task_id
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    with django_assert_num_queries(3):  # the token with its user and label, the run, the note
        assert client.get(f"/api/celery/tasks/{task_id}").status_code == 200
    noted = ApiTokenLabel.objects.get().last_used_at
    assert noted is not None
    with django_assert_num_queries(2):  # within the minute: nothing written
        assert client.get(f"/api/celery/tasks/{task_id}").status_code == 200
    assert ApiTokenLabel.objects.get().last_used_at == noted

    ApiTokenLabel.objects.update(last_used_at=noted - timedelta(seconds=61))
    assert client.get(f"/api/celery/tasks/{task_id}").status_code == 200
    assert ApiTokenLabel.objects.get().last_used_at > noted - timedelta(seconds=61)


def test_a_refused_token_is_not_noted_as_used(ana, capsys):
    token = create_token(capsys, "ci")
    ana.is_active = False
    ana.save()

    assert status_with(token) == 401
    assert ApiTokenLabel.objects.get().last_used_at is None
