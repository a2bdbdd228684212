"""python manage.py create_api_token USERNAME --name NAME: add a named API token beside the user's others."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.settings import knox_settings

from tasks_api.services.api_tokens import ApiTokenError, api_token_create


class Command(BaseCommand):
    help = "Add a named API token for a user (its other tokens stay valid) and print it once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Unique per user, e.g. the client's name.")
        parser.add_argument(
            "--expires",
            type=int,
            metavar="DAYS",
            help="Days until it expires; 0: never (default: API_TOKEN_TTL_DAYS).",
        )

    def handle(self, *args, username: str, name: str, expires: int | None, **options) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}; create it first (create_operator).") from None
        if expires is not None and expires < 0:
            raise CommandError("--expires takes a number of days, 0 or more.")
        expiry = (
            knox_settings.TOKEN_TTL if expires is None else (timedelta(days=expires) if expires else None)
        )
        try:
            auth_token, key = api_token_create(user=user, name=name, expiry=expiry)
        except ApiTokenError as error:
            raise CommandError(str(error)) from None
        until = f"expires {auth_token.expiry:%Y-%m-%d %H:%M %Z}" if auth_token.expiry else "never expires"
        self.stderr.write(f"Added token {name!r} ({auth_token.token_key}…) for {username}; it {until}.")
        # Only a hash is stored: this is the one moment the token can be read.
        self.stdout.write(key)
