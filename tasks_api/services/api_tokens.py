"""Named API tokens: add one beside a user's others, revoke exactly one, note when one was last used."""

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from knox.models import AuthToken

from tasks_api.models import ApiTokenLabel

# "Last used" is a hint for an operator deciding whether a client moved on, not an audit log:
# written at most this often per token, so polling clients do not write on every request.
LAST_USED_EVERY = timedelta(seconds=60)


class ApiTokenError(Exception):
    """A token that cannot be added or revoked as asked (the message says why)."""


def api_token_create(*, user: User, name: str, expiry: timedelta | None) -> tuple[AuthToken, str]:
    """Add a named token for `user` (its others stay valid); the token row and the key, shown once."""
    if ApiTokenLabel.objects.filter(user=user, name=name).exists():
        raise ApiTokenError(f"{user.get_username()} already has a token named {name!r}.")
    try:
        with transaction.atomic():
            auth_token, key = AuthToken.objects.create(user=user, expiry=expiry)
            ApiTokenLabel.objects.create(token=auth_token, user=user, name=name)
    except IntegrityError:  # the same name added concurrently
        raise ApiTokenError(f"{user.get_username()} already has a token named {name!r}.") from None
    return auth_token, key


def api_token_revoke(*, user: User, name: str | None = None, prefix: str | None = None) -> AuthToken:
    """Delete the one token of `user` with this name, or whose key starts with `prefix`."""
    if bool(name) == bool(prefix):
        raise ApiTokenError("Give either a name or a prefix (not empty).")
    tokens = AuthToken.objects.filter(user=user)
    matches = list(tokens.filter(label__name=name) if name else tokens.filter(token_key__startswith=prefix))
    wanted = f"named {name!r}" if name else f"with prefix {prefix!r}"
    if not matches:
        raise ApiTokenError(f"{user.get_username()} has no token {wanted}.")
    if len(matches) > 1:
        keys = ", ".join(sorted(token.token_key for token in matches))
        raise ApiTokenError(f"{len(matches)} tokens of {user.get_username()} {wanted} ({keys}); give more.")
    matches[0].delete()
    return matches[0]


def api_token_mark_used(*, digest: str, last_used_at: datetime | None) -> None:
    """Record a use of a named token, unless one was recorded less than a minute ago."""
    now = timezone.now()
    if last_used_at is not None and now - last_used_at < LAST_USED_EVERY:
        return
    # Conditional, so concurrent requests of one token write once between them.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
    ApiTokenLabel.objects.filter(stale, pk=digest).update(last_used_at=now)


def api_tokens_expire() -> int:
    """Delete the API tokens past their expiry; how many. (Knox deleted them on every request.)"""
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
