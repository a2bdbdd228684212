"""Encryption at rest for SII passwords (Fernet, key from settings.SII_CREDENTIALS_KEY)."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class CredentialsUnreadable(Exception):
    """The stored password was encrypted with another key."""


@cache
def _fernet(key: str) -> Fernet:
    return Fernet(key)


def encrypt(plaintext: str) -> str:
    return _fernet(settings.SII_CREDENTIALS_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.SII_CREDENTIALS_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable(
            "The SII password cannot be decrypted with SII_CREDENTIALS_KEY."
        ) from None
