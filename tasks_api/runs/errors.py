"""How a run's error is said in words, wherever it is shown (status, lists, attempts, console)."""

from typing import Any


def launch_failure_message(reason: str) -> str:
    """How every surface (API, admin, status) says that a publish failed."""
    return f"Failed to launch task: {reason}"


def exception_message(value: Any) -> str | None:
    """The message of an exception as the result backend stores it ("Company not found"), else
    its type; a value that is not a stored exception as text."""
    if not isinstance(value, dict):
        return None if value is None else str(value)
    message = value.get("exc_message")
    if isinstance(message, list | tuple):
        message = " ".join(str(part) for part in message)
    return message or value.get("exc_type")


def exception_type(value: Any) -> str:
    """The exception's class name as stored ("SiiUnavailable"); "" for anything else."""
    return str(value.get("exc_type") or "") if isinstance(value, dict) else ""
