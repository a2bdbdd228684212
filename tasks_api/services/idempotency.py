"""Idempotency-Key on launches: the same key from the same user replays the first answer.

The key is recorded in the launch's own transaction, under a unique (user, key) constraint: a
concurrent duplicate's INSERT waits for the first transaction, then fails, reads the committed
row and replays it. Nothing is launched twice, whatever the timing.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tasks_api.models import IdempotencyKey
from tasks_api.services.launches import TaskLaunchFailed

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class LaunchAnswer:
    status_code: int
    body: dict


class InvalidIdempotencyKey(ValueError):
    def __init__(self) -> None:
        super().__init__(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces)"
        )


class IdempotencyKeyReused(Exception):
    """The key was already used by this user for a different request."""

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key was already used for a different request; use a new key for a new launch"
        )


class IdempotencyKeyBusy(Exception):
    """The key's row kept changing under us (expired and reused concurrently): try again."""


def idempotency_key_check(raw: str) -> str:
    """The header's value as the key; InvalidIdempotencyKey unless it is 1 to 255 visible ASCII
    characters (a UUID, say): no spaces, which proxies may trim."""
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not all("!" <= char <= "~" for char in raw):
        raise InvalidIdempotencyKey()
    return raw


def request_fingerprint(request: object) -> str:
    """A hash of what was asked; key order in JSON objects does not matter."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def launch_idempotent(
    *, user, key: str | None, request: object, launch: Callable[[], LaunchAnswer]
) -> LaunchAnswer:
    """`launch()`'s answer, or, when `user` already used `key` within the retention period for
    the same `request`, the answer that first launch got. Raises IdempotencyKeyReused for a
    different request. A launch the broker refused (TaskLaunchFailed) keeps no key: nothing
    was launched, so a retry with the same key launches."""
    if key is None:
        return launch()
    fingerprint = request_fingerprint(request)
    try:
        with transaction.atomic():
            record = _key_claim(user=user, key=key, fingerprint=fingerprint)
            if record.status_code is not None:
                return LaunchAnswer(record.status_code, record.response or {})
            answer = launch()
            record.status_code, record.response = answer.status_code, answer.body
            record.launch_id = answer.body.get("task_id")
            record.save(update_fields=["status_code", "response", "launch"])
    except TaskLaunchFailed:  # raised by the publish, after the commit
        IdempotencyKey.objects.filter(user=user, key=key, fingerprint=fingerprint).delete()
        raise
    return answer


def _key_claim(*, user, key: str, fingerprint: str) -> IdempotencyKey:
    """A new row for the key (its answer still to fill in), or the committed one to replay."""
    for _ in range(3):
        try:
            with transaction.atomic():  # a savepoint: a duplicate undoes only this INSERT
                return IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:  # freed meanwhile (its launch failed, or it expired): claim it
            continue
        if existing.created_at < _oldest_kept():
            existing.delete()
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return existing
    raise IdempotencyKeyBusy()


def _oldest_kept():
    return timezone.now() - timedelta(hours=settings.TASKS_API_IDEMPOTENCY_HOURS)


def idempotency_keys_expire() -> int:
    """Delete keys past the retention period (the reconciler calls this); how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=_oldest_kept()).delete()
    return deleted
