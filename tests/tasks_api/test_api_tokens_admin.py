"""The API tokens admin: name, user, prefix, dates and last use; never the digest; no add form."""

import re

import pytest
from django.urls import reverse
from knox.models import AuthToken

from tasks_api.models import ApiTokenLabel
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:knox_authtoken_changelist")


@pytest.fixture
def token():
    user = UserFactory(username="ana")
    auth_token, _ = AuthToken.objects.create(user=user, expiry=None)
    ApiTokenLabel.objects.create(token=auth_token, user=user, name="laptop")
    return auth_token


def shown_text(html: str) -> str:
    """What a reader sees: the page without its tags (a link's target or a checkbox's value is not shown)."""
    return re.sub(r"<[^>]*>", " ", html)


def test_the_list_shows_name_user_prefix_and_never_the_digest(client, superuser, token):
    page = client.get(CHANGELIST).content.decode()

    for shown in ("laptop", "ana", token.token_key, "Last used"):
        assert shown in shown_text(page)
    assert token.digest not in shown_text(page)


def test_the_detail_never_shows_the_digest(client, superuser, token):
    page = client.get(reverse("admin:knox_authtoken_change", args=[token.digest])).content.decode()

    assert "laptop" in shown_text(page)
    assert token.digest not in shown_text(page)


def test_searching_by_the_digest_finds_nothing_and_by_the_name_finds_the_token(client, superuser, token):
    assert token.token_key not in shown_text(client.get(CHANGELIST, {"q": token.digest}).content.decode())
    assert token.token_key in shown_text(client.get(CHANGELIST, {"q": "laptop"}).content.decode())


def test_tokens_cannot_be_added_in_the_admin_and_the_list_says_where_they_come_from(client, superuser):
    assert client.get(reverse("admin:knox_authtoken_add")).status_code == 403
    assert "create_api_token" in client.get(CHANGELIST).content.decode()


def test_deleting_a_token_in_the_admin_revokes_it(client, superuser, token):
    client.post(reverse("admin:knox_authtoken_delete", args=[token.digest]), {"post": "yes"})

    assert not AuthToken.objects.filter(pk=token.pk).exists()
