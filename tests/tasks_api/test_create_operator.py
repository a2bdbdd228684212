"""create_operator: a staff account in a ready group, with a password printed once."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def create_operator(capsys, username: str, *args: str) -> str:
    """The printed password."""
    call_command("create_operator", username, *args)
    return capsys.readouterr().out.strip().splitlines()[-1].rsplit(" ", 1)[-1]


def group_permissions(name: str) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=name).permissions.all()
    }


@pytest.mark.parametrize(("role", "group"), [("viewer", "task viewers"), ("operator", "task operators")])
def test_an_operator_signs_in_to_the_admin_with_exactly_the_groups_permissions(client, capsys, role, group):
    password = create_operator(capsys, "bea", "--role", role, "--email", "bea@example.com")

    assert client.login(username="bea", password=password)
    assert client.get("/admin/tasks_api/tasklaunch/").status_code == 200
    user = get_user_model().objects.get(username="bea")
    assert (user.is_staff, user.is_superuser, user.email) == (True, False, "bea@example.com")
    assert user.get_all_permissions() == group_permissions(group)


def test_an_existing_user_is_reported_and_left_alone(capsys):
    create_operator(capsys, "bea", "--role", "viewer")

    with pytest.raises(CommandError, match="A user named 'bea' exists; pass --update"):
        call_command("create_operator", "bea", "--role", "operator")
    assert list(get_user_model().objects.get(username="bea").groups.values_list("name", flat=True)) == [
        "task viewers"
    ]


def test_update_moves_a_user_to_the_other_role_and_keeps_its_password(client, capsys):
    password = create_operator(capsys, "bea", "--role", "viewer")

    call_command("create_operator", "bea", "--role", "operator", "--update")

    assert "Password" not in capsys.readouterr().out
    user = get_user_model().objects.get(username="bea")
    assert list(user.groups.values_list("name", flat=True)) == ["task operators"]
    assert client.login(username="bea", password=password)


def test_an_unknown_role_is_refused():
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        call_command("create_operator", "bea", "--role", "admin")
    assert not get_user_model().objects.filter(username="bea").exists()


@pytest.mark.parametrize(("role", "may_change"), [("viewer", False), ("operator", True)])
def test_both_roles_open_the_companies_and_only_operators_may_fix_one(client, capsys, role, may_change):
    company = CompanyFactory()
    client.login(username="bea", password=create_operator(capsys, "bea", "--role", role))

    assert client.get("/admin/sii/company/").status_code == 200
    assert client.get(f"/admin/sii/company/{company.pk}/change/").status_code == 200
    user = get_user_model().objects.get(username="bea")
    assert (user.has_perm("sii.view_company"), user.has_perm("sii.change_company")) == (True, may_change)
