"""The task states the API reports, and the one rule that says which state a run is in.

A run's state comes from two rows: its launch record and its stored result. The rule is
written twice, in Python for the API (`run_status`) and in SQL for the admin's lists
(`run_status_expression`), side by side here; a test checks that they agree on every combination.
"""

from django.db.models import Case, F, Q, Value, When

# The only states ever returned (the contract); progress goes in meta, never in a custom state.
STATUSES = ("PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED")
RUNNING = ("STARTED", "RETRY")
FINISHED = ("SUCCESS", "FAILURE", "REVOKED")
UNSUCCESSFUL = ("FAILURE", "REVOKED")


def run_status(*, stored: str | None, enqueued: bool | None, revoke_requested: bool) -> str:
    """A stored state wins; then a publish that failed; then a revoke; else the run waits."""
    if stored is not None and stored != "PENDING":
        return stored
    if enqueued is False:
        return "FAILURE"
    if revoke_requested:
        return "REVOKED"
    return "PENDING"


def run_status_expression(stored: str = "result_status") -> Case:
    """run_status over launch records annotated with their stored result's status (`stored`)."""
    return Case(
        When(Q(**{f"{stored}__isnull": False}) & ~Q(**{stored: "PENDING"}), then=F(stored)),
        When(enqueued=False, then=Value("FAILURE")),
        When(revoke_requested_at__isnull=False, then=Value("REVOKED")),
        default=Value("PENDING"),
    )
