"""How a long sync reports progress and learns that it should stop, without knowing Celery."""

from typing import Protocol


class SyncStopped(Exception):
    """The sync was revoked; it stops between steps, keeping what it already saved."""


class Progress(Protocol):
    def __call__(self, *, current: int, total: int, step: str) -> None:
        """Called before each step; raises SyncStopped when the work should stop."""


def no_progress(*, current: int, total: int, step: str) -> None:
    """A Progress that reports nowhere and never stops."""
