"""API fixtures: users with and without the task permissions, authenticated clients."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fresh_stats_cache():
    cache.clear()


def user_in(group: str | None, **fields):
    user = UserFactory(**fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def client_for(user) -> APIClient:
    """A client that sends the user's token as existing clients will: `Authorization: Token ...`."""
    _, token = AuthToken.objects.create(user=user, expiry=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def operator(db):
    return user_in("task operators", username="operator")


@pytest.fixture
def viewer(db):
    return user_in("task viewers", username="viewer")


@pytest.fixture
def api(operator) -> APIClient:
    return client_for(operator)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    return client_for(viewer)
