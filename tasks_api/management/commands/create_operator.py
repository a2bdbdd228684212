"""python manage.py create_operator USERNAME --role viewer|operator: a staff account in a ready group."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# The ready groups (migration 0002): viewers read runs; operators also launch, revoke, terminate.
ROLES = {"viewer": "task viewers", "operator": "task operators"}


class Command(BaseCommand):
    help = "Create a staff user in the viewers' or operators' group and print a generated password once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLES))
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--update",
            action="store_true",
            help="Change an existing user's role (and email); keep its password.",
        )

    def handle(self, *args, username: str, role: str, email: str, update: bool, **options) -> None:
        group = Group.objects.filter(name=ROLES[role]).first()
        if group is None:
            raise CommandError(f"The group {ROLES[role]!r} is missing; re-create it in the admin (Groups).")
        user = get_user_model().objects.filter(username=username).first()
        if user is not None and not update:
            raise CommandError(f"A user named {username!r} exists; pass --update to change its role.")
        with transaction.atomic():
            password = _save(user or get_user_model()(username=username), group=group, email=email)
        self.stdout.write(f"{username} is a task {role} (staff, group {group.name!r}).")
        if password:
            self.stdout.write(
                f"Password (shown once; change it under the admin's Change password): {password}"
            )


def _save(user, *, group: Group, email: str) -> str | None:
    """Make `user` staff in `group` only (of the ready groups); its new password, if it had none."""
    password = None if user.pk else secrets.token_urlsafe(16)
    if password:
        user.set_password(password)
    user.is_staff = True
    user.email = email or user.email
    user.save()
    user.groups.remove(*Group.objects.filter(name__in=ROLES.values()).exclude(pk=group.pk))
    user.groups.add(group)
    return password
