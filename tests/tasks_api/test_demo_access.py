"""demo_access: the admin and token `make run` prints always work, remembered per database."""

import json

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from knox.models import AuthToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def printed(capsys) -> tuple[str, str]:
    """(password, token) as make run shows them."""
    call_command("demo_access")
    out = capsys.readouterr().out
    password = out.split("password ", 1)[1].split()[0]
    token = out.split("API token: ", 1)[1].split()[0]
    return password, token


def works(password: str, token: str, client) -> bool:
    api = client.get("/api/celery/tasks", HTTP_AUTHORIZATION=f"Token {token}").status_code
    return authenticate(username="admin", password=password) is not None and api == 200


def test_the_first_run_prints_an_admin_password_and_a_token_that_work(capsys, client):
    assert works(*printed(capsys), client)


def test_a_changed_admin_password_is_set_back_to_the_printed_one(capsys, client):
    password, token = printed(capsys)
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-hand")
    admin.save()

    assert printed(capsys) == (password, token)
    assert works(password, token, client)


def test_a_token_that_no_longer_works_is_replaced_by_one_that_does(capsys, client):
    password, token = printed(capsys)
    AuthToken.objects.all().delete()

    again, new_token = printed(capsys)

    assert (again, new_token != token) == (password, True)
    assert works(again, new_token, client)


def test_each_database_keeps_its_own_access_in_the_file(capsys, var_dir):
    other = {"username": "admin", "password": "the-other-database's", "token": "x"}
    (var_dir / "demo-access.json").write_text(json.dumps({"sqlite::::/elsewhere/db.sqlite3": other}))

    printed(capsys)

    saved = json.loads((var_dir / "demo-access.json").read_text())
    assert saved["sqlite::::/elsewhere/db.sqlite3"] == other
    assert len(saved) == 2


def test_a_file_in_the_old_one_database_shape_is_started_afresh(capsys, var_dir, client):
    (var_dir / "demo-access.json").write_text(
        json.dumps({"username": "admin", "password": "p", "token": "t"})
    )

    assert works(*printed(capsys), client)
