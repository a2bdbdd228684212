"""python manage.py create_api_token USERNAME: create (or rotate) the user's API token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken


class Command(BaseCommand):
    help = "Create an API token for a user, replacing the tokens it had, and print it once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}; create it first (createsuperuser).") from None
        revoked, _ = AuthToken.objects.filter(user=user).delete()
        # Only a hash is stored: this is the one moment the token can be read.
        _, token = AuthToken.objects.create(user=user, expiry=None)
        if revoked:
            self.stderr.write(f"Replaced {revoked} earlier token(s) of {username}.")
        self.stdout.write(token)
