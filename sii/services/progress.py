"""How a long sync reports progress and learns that it should stop, without knowing Celery."""

from typing import Protocol


class Progress(Protocol):
    def __call__(self, *, current: int, total: int, step: str) -> None:
        """Called before each step; raises (and so stops the sync) when the run was revoked."""


def no_progress(*, current: int, total: int, step: str) -> None:
    """A Progress that reports nowhere and never stops."""
