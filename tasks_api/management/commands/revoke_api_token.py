"""python manage.py revoke_api_token USERNAME (--name NAME | --prefix PREFIX): delete exactly one token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tasks_api.services.api_tokens import ApiTokenError, api_token_revoke


class Command(BaseCommand):
    help = "Revoke one of a user's API tokens, by its name or by the first characters of its key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--name", help="The name given to create_api_token.")
        which.add_argument("--prefix", help="The token's first characters (the admin's Prefix column).")

    def handle(self, *args, username: str, name: str | None, prefix: str | None, **options) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        try:
            revoked = api_token_revoke(user=user, name=name, prefix=prefix)
        except ApiTokenError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Revoked {username}'s token {revoked.token_key}…; it is refused from now on.")
