"""Encryption at rest for SII passwords: SII_CREDENTIALS_KEY encrypts, it and SII_CREDENTIALS_OLD_KEYS decrypt."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialsUnreadable(Exception):
    """The stored password was encrypted with a key that is no longer configured."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    # https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
    return MultiFernet([Fernet(key) for key in keys])


def _keys() -> tuple[str, ...]:
    return (settings.SII_CREDENTIALS_KEY, *settings.SII_CREDENTIALS_OLD_KEYS)


def encrypt(plaintext: str) -> str:
    """Encrypt under the current key (SII_CREDENTIALS_KEY)."""
    return _fernet(_keys()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with whichever configured key encrypted it."""
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise _unreadable() from None


def is_current(token: str) -> bool:
    """Whether the current key alone decrypts the token (rotating it would change nothing)."""
    try:
        _fernet(_keys()[:1]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same password re-encrypted under the current key (a new token every time)."""
    try:
        return _fernet(_keys()).rotate(token.encode()).decode()
    except InvalidToken:
        raise _unreadable() from None


def _unreadable() -> CredentialsUnreadable:
    return CredentialsUnreadable(
        "The SII password cannot be decrypted with SII_CREDENTIALS_KEY or SII_CREDENTIALS_OLD_KEYS."
    )
