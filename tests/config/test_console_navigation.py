"""The console's sidebar: grouped links, each shown only to users who may open it, all of them working."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.tasks_api.conftest import user_in

pytestmark = pytest.mark.django_db


def sidebar(client) -> str:
    page = client.get(reverse("admin:workers")).content.decode()
    return page[page.index('id="nav-sidebar-apps"') :]


def sidebar_links(client) -> list[str]:
    return re.findall(r'<a href="([^"]+)"[^>]*>\s*<span class="material-symbols-outlined', sidebar(client))


def test_the_dashboard_is_the_unfold_dashboard_callback():
    assert settings.UNFOLD["DASHBOARD_CALLBACK"] == "config.dashboard.dashboard_callback"


def test_the_groups_are_in_the_operators_order():
    titles = [group.get("title") for group in settings.UNFOLD["SIDEBAR"]["navigation"]]

    assert titles == [None, "SII", "Synced documents", "Schedules", "Results", "Accounts"]


def test_a_superuser_sees_every_link_and_every_link_opens(client, superuser):
    links = sidebar_links(client)

    for expected in ("/admin/", "/admin/tasks_api/tasklaunch/", "/admin/workers/", "/admin/sii/company/",
                     "/admin/sii/purchasedocument/", "/admin/django_celery_beat/periodictask/",
                     "/admin/django_celery_results/taskresult/", "/admin/auth/user/", "/admin/knox/authtoken/"):  # fmt: skip
        assert expected in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_a_task_viewer_sees_only_what_it_may_open(client):
    client.force_login(user_in("task viewers", username="watcher", is_staff=True))

    links = sidebar_links(client)

    assert {"/admin/", "/admin/tasks_api/tasklaunch/", "/admin/workers/"} <= set(links)
    assert "/admin/auth/user/" not in links
    assert "/admin/knox/authtoken/" not in links
    for link in links:
        assert client.get(link).status_code == 200, link
