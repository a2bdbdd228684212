"""API tokens (knox) checked in one query per request, and a user's permissions loaded in one more.

Knox's own scheme costs three ORM queries per request before the view runs: the token with its
user, then every other token of that user (to delete expired ones), and Django's backend adds
two for a non-superuser's permissions. Status polling pays that on every poll. Here the presented
token and its user come in one hand-written statement; expired tokens are deleted when presented
and by the reconciler (services.api_tokens.api_tokens_expire); permissions come in one statement.
Same answers, same 401s, same knox tokens and settings. A named token's label comes in the same statement; its
"last used" is written only when a minute old, so a poll usually writes nothing.
"""

from functools import cache
from hmac import compare_digest
from typing import Any

from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from knox.signals import token_expired
from rest_framework import exceptions

from tasks_api.models import ApiTokenLabel
from tasks_api.services.api_tokens import api_token_mark_used
from tasks_api.sql import ModelColumns, fetch_all

TOKEN = ModelColumns(AuthToken, "token")
LABEL = ModelColumns(ApiTokenLabel, "label")


class TokenAuthentication(auth.TokenAuthentication):
    """`Authorization: Token <key>`: knox's tokens, in one query."""

    def authenticate_credentials(self, token: bytes):
        try:
            key = token.decode("utf-8")
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, ValueError):
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        for auth_token, label in _tokens_with_key(key[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if compare_digest(digest, auth_token.digest) and not self._expired(auth_token):
                if auth.knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                credentials = self.validate_user(auth_token)
                if label is not None:
                    api_token_mark_used(digest=auth_token.digest, last_used_at=label.last_used_at)
                return credentials
        raise exceptions.AuthenticationFailed(_("Invalid token."))

    def _expired(self, auth_token: AuthToken) -> bool:
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


class TokenAuthenticationScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of this class: knox's."""

    target_class = "tasks_api.api.authentication.TokenAuthentication"


def _tokens_with_key(key: str) -> list[tuple[AuthToken, ApiTokenLabel | None]]:
    """The tokens whose stored prefix is `key` (almost always one), each with its user and label."""
    tokens = []
    users_end = TOKEN.width + _users().width
    for row in fetch_all(_tokens_sql(), [key]):
        auth_token = TOKEN.load(row[: TOKEN.width])
        auth_token.user = _users().load(row[TOKEN.width : users_end])
        tokens.append((auth_token, LABEL.load(row[users_end:])))
    return tokens


@cache
def _users() -> ModelColumns:
    return ModelColumns(get_user_model(), "owner")


@cache
def _tokens_sql() -> str:
    users = _users()
    return (
        f"SELECT {TOKEN.select}, {users.select}, {LABEL.select} FROM {TOKEN.table} "  # noqa: S608 (names from the models; values are parameters)
        f"JOIN {users.table} ON {users.column('id')} = {TOKEN.column('user')} "
        f"LEFT JOIN {LABEL.table} ON {LABEL.column('token')} = {TOKEN.column('digest')} "
        f"WHERE {TOKEN.column('token_key')} = %s"
    )


class ModelBackend(backends.ModelBackend):
    """Django's backend, loading a user's permissions (own and through groups) in one query."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            rows = fetch_all(_permissions_sql(), [user_obj.pk, user_obj.pk])
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache


@cache
def _permissions_sql() -> str:
    quote = connection.ops.quote_name
    # get_user_model() is typed as AbstractBaseUser, which has no permissions or groups.
    user: Any = get_user_model()
    own = user.user_permissions.through._meta
    member = user.groups.through._meta
    granted = Group.permissions.through._meta

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    return (
        f"SELECT ct.app_label, p.codename FROM {quote(Permission._meta.db_table)} AS p "  # noqa: S608 (names from the models; values are parameters)
        f"JOIN {quote(ContentType._meta.db_table)} AS ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT {column(own, 'permission')} FROM {quote(own.db_table)} "
        f"WHERE {column(own, 'user')} = %s UNION SELECT g.{column(granted, 'permission')} "
        f"FROM {quote(granted.db_table)} AS g JOIN {quote(member.db_table)} AS m "
        f"ON m.{column(member, 'group')} = g.{column(granted, 'group')} WHERE m.{column(member, 'user')} = %s)"
    )
