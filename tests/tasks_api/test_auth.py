"""Tokens stored hashed, added by a command; the two ready groups."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def create_token(username: str, capsys, name: str = "ci") -> str:
    call_command("create_api_token", username, name=name)
    return capsys.readouterr().out.strip()


def test_create_api_token_prints_a_token_that_works_and_is_stored_hashed(capsys):
    user = UserFactory(username="ana", is_superuser=True)

    token = create_token("ana", capsys)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/celery/tasks").status_code == 200
    stored = AuthToken.objects.get(user=user)
    assert token not in (stored.digest, stored.token_key)


def test_create_api_token_again_adds_a_token_and_keeps_the_first(capsys):
    UserFactory(username="ana", is_superuser=True)
    old = create_token("ana", capsys, name="old")

    new = create_token("ana", capsys, name="new")

    client = APIClient()
    for token in (old, new):
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get("/api/celery/tasks").status_code == 200


def test_create_api_token_for_a_missing_user_fails_clearly():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_token", "ghost", name="ci")


def test_the_two_ready_groups_hold_the_task_permissions_and_see_the_companies():
    def codenames(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    assert codenames("task viewers") == {"view_tasklaunch", "view_company"}
    assert codenames("task operators") == {
        "view_tasklaunch", "launch_task", "revoke_task", "terminate_task", "view_company", "change_company",
    }  # fmt: skip


def test_a_user_without_task_permissions_is_refused(db):
    client = APIClient()
    client.force_authenticate(UserFactory())

    assert client.get("/api/celery/tasks").status_code == 403
