"""python manage.py demo_access: a local admin user and API token for `make run`, kept in var/."""

import json
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from knox.auth import TokenAuthentication
from knox.models import AuthToken

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the demo admin and its API token once; print where they are (var/demo-access.json)."

    def handle(self, *args, **options) -> None:
        path = settings.VAR_DIR / "demo-access.json"
        access = json.loads(path.read_text()) if path.exists() else {}
        if not _still_valid(access):
            access = _create()
            path.write_text(json.dumps(access, indent=2))
            path.chmod(0o600)
            self.stdout.write(f"Created the demo admin and API token (saved in {path}).")
        port = os.environ.get("WEB_PORT", "8000")
        self.stdout.write(
            f"Admin:     http://127.0.0.1:{port}/admin/  user {USERNAME}  password {access['password']}"
        )
        self.stdout.write(f"API token: {access['token']}")


def _still_valid(access: dict) -> bool:
    if not access.get("token"):
        return False
    try:
        TokenAuthentication().authenticate_credentials(access["token"].encode())
    except Exception:  # the database was reset, or the token rotated: make new ones
        return False
    return True


def _create() -> dict:
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username=USERNAME, defaults={"email": "admin@localhost"})
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    _, token = AuthToken.objects.create(user=user, expiry=None)
    return {"username": USERNAME, "password": password, "token": token}
