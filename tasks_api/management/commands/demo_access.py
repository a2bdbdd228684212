"""python manage.py demo_access: the local admin and API token `make run` prints, kept in var/.

The access is remembered per database (switching between SQLite and PostgreSQL keeps each one's),
and made true on every run: the demo admin's password is set back to the printed one if someone
changed it, and a token that no longer works (deleted, expired, a reset database) is replaced.
"""

import contextlib
import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from rest_framework.exceptions import AuthenticationFailed

from tasks_api.api.authentication import TokenAuthentication
from tasks_api.services.api_tokens import ApiTokenError, api_token_create, api_token_revoke

USERNAME = "admin"
TOKEN_NAME = "make run"  # noqa: S105 (a token's label, not a secret)


class Command(BaseCommand):
    help = "Make the demo admin and its API token work for this database; print them (var/demo-access.json)."

    def handle(self, *args, **options) -> None:
        path = settings.VAR_DIR / "demo-access.json"
        saved = _load(path)
        access = demo_access_ensure(saved.get(_database_key(), {}))
        saved[_database_key()] = access
        path.write_text(json.dumps(saved, indent=2))
        path.chmod(0o600)
        port = os.environ.get("WEB_PORT", "8000")
        self.stdout.write(
            f"Admin:     http://127.0.0.1:{port}/admin/  user {USERNAME}  password {access['password']}"
        )
        self.stdout.write(f"API token: {access['token']}")


def demo_access_ensure(access: dict) -> dict:
    """The demo admin with `access`'s password (a new one the first time) and a working token."""
    password = access.get("password") or secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username=USERNAME, defaults={"email": "admin@localhost"})
    if not (user.is_staff and user.is_superuser and user.is_active and user.check_password(password)):
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    token = access.get("token") if _works(access.get("token")) else _new_token(user)
    return {"username": USERNAME, "password": password, "token": token}


def _works(token: str | None) -> bool:
    if not token:
        return False
    try:
        TokenAuthentication().authenticate_credentials(token.encode())
    except AuthenticationFailed:
        return False
    return True


def _new_token(user) -> str:
    with contextlib.suppress(ApiTokenError):  # the one this command made before, if any
        api_token_revoke(user=user, name=TOKEN_NAME)
    return api_token_create(user=user, name=TOKEN_NAME, expiry=None)[1]


def _database_key() -> str:
    database = connection.settings_dict
    return f"{connection.vendor}:{database.get('HOST') or ''}:{database.get('PORT') or ''}:{database['NAME']}"


def _load(path: Path) -> dict:
    try:
        saved = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    # The file once held one database's access at its top level: start afresh from that shape.
    return saved if all(isinstance(value, dict) for value in saved.values()) else {}
