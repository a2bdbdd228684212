"""Runs: every task publish, recorded before it happens, holding the run's state; and its attempts.

A run's status, times and error are stored on its row and changed only by
tasks_api.runs.transitions; the result backend's TaskResult keeps the payload and traceback.
"""

import uuid

from django.conf import settings
from django.db import models
from knox.models import AuthToken

from tasks_api.permissions import CUSTOM as CUSTOM_PERMISSIONS
from tasks_api.states import STATUSES


def new_task_id() -> str:
    return str(uuid.uuid4())


class TaskLaunch(models.Model):
    class LaunchedBy(models.TextChoices):
        USER = "user", "User"
        BEAT = "beat", "Beat schedule"
        FANOUT = "fanout", "Fan-out parent"
        SYSTEM = "system", "System"

    # Text, as Celery and django-celery-results spell task ids, so the two join on equal strings.
    task_id = models.CharField(primary_key=True, max_length=36, default=new_task_id, editable=False)
    task_type = models.CharField(max_length=100, db_index=True)
    params = models.JSONField(default=dict, help_text="Validated keyword arguments of the task.")
    # The domain object the run is about (the catalog names the parameter that carries it), so
    # a domain's admin can filter and search runs by it without this app knowing the domain.
    subject_id = models.UUIDField(null=True, blank=True, db_index=True)
    launched_by = models.CharField(max_length=10, choices=LaunchedBy.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # No database constraint: a child may be recorded by a parent whose own record is missing
    # (a task published by hand with `celery call`), and records outlive their parents.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="children",
    )
    relaunch_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="relaunches"
    )
    periodic_task_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    enqueued = models.BooleanField(null=True, help_text="Null until the publish was attempted.")
    enqueue_error = models.TextField(blank=True)
    revoke_requested_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    terminate_requested = models.BooleanField(default=False)
    retries = models.PositiveIntegerField(default=0, help_text="Retries so far.")
    published_at = models.DateTimeField(null=True, blank=True, help_text="Last publish to the broker.")
    # Who runs it now ("host:pid" of the worker process, empty between attempts): a claim left
    # behind by a process that died is how a lost delivery is noticed.
    claimed_by = models.CharField(max_length=255, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=0, help_text="Attempts a worker started.")
    lost_deliveries = models.PositiveIntegerField(default=0, help_text="Attempts lost to dying workers.")
    # The run's state, stored once: written only by tasks_api.runs.transitions, read everywhere.
    status = models.CharField(max_length=10, choices=[(s, s) for s in STATUSES], default="PENDING")
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker first started it.")
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed, or why its last attempt did.")

    class Meta:
        verbose_name = "task run"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["parent", "created_at"]),
            # The API's run history, newest first, filtered by task type or by subject.
            models.Index(fields=["task_type", "created_at"], name="tasks_api_launch_type_created"),
            models.Index(fields=["subject_id", "created_at"], name="tasks_api_launch_subj_created"),
            # Runs by state, newest first (the history's filter, the console's "running now").
            models.Index(fields=["status", "created_at"], name="tasks_api_launch_status"),
            # A fan-out parent's children by state: its counts and whether its family still runs.
            models.Index(fields=["parent", "status"], name="tasks_api_launch_parent_state"),
            # /metrics' oldest waiting launch: only the few launches published but not started.
            models.Index(
                fields=["published_at"],
                condition=models.Q(enqueued=True, status="PENDING"),
                name="tasks_api_launch_queued",
            ),
        ]
        permissions = list(CUSTOM_PERMISSIONS.items())

    def __str__(self) -> str:
        return f"{self.task_type} {self.task_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoke_requested_at is not None


class RunAttempt(models.Model):
    """One delivery of a run to a worker: who took it, when, and how it ended."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        RETRY = "retry", "Retry scheduled"
        LOST = "lost", "Lost: the worker died"
        REVOKED = "revoked", "Revoked"
        SKIPPED = "skipped", "Duplicate delivery skipped"

    run = models.ForeignKey(TaskLaunch, on_delete=models.CASCADE, related_name="attempts")
    # The run's delivery count when this attempt began; none for a duplicate that was skipped.
    number = models.PositiveIntegerField(null=True, blank=True)
    worker = models.CharField(max_length=255, help_text="The worker's node name (celery@host).")
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    error_type = models.CharField(max_length=255, blank=True)
    error_message = models.TextField(blank=True)
    retry_at = models.DateTimeField(null=True, blank=True, help_text="When a scheduled retry is due.")
    waiting = models.CharField(
        max_length=255, blank=True, help_text="What the running attempt waits for now; empty when nothing."
    )

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["run", "started_at"], name="tasks_api_attempt_run_started")]

    def __str__(self) -> str:
        return f"attempt {self.number or '-'} of {self.run_id}: {self.outcome}"


class SchedulerLease(models.Model):
    """Who may run a singleton process (beat) until when; renewed by its holder while it lives."""

    name = models.CharField(primary_key=True, max_length=100)
    holder = models.TextField(help_text="host:pid:token of the process holding the lease.")
    # Compared with the database's clock, never a host's, so clock skew between hosts is moot.
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at}"


class MetricSample(models.Model):
    """One metric series' value, summed over every process (tasks_api.metrics' database store,
    used when no Redis is configured)."""

    key = models.TextField(primary_key=True)
    value = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"{self.key} = {self.value}"


class IdempotencyKey(models.Model):
    """A launch request's Idempotency-Key: the first answer, replayed to the same user's retries.

    Written in the launch's own transaction, so a concurrent duplicate waits on the unique
    constraint and then reads this row instead of launching again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # A hash of what was asked (the launch body, or the run relaunched): a reuse must match it.
    fingerprint = models.CharField(max_length=64)
    launch = models.ForeignKey(TaskLaunch, null=True, on_delete=models.SET_NULL, related_name="+")
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="tasks_api_idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"


class ApiTokenLabel(models.Model):
    """An API token's name and when it was last used (knox's token has neither).

    Tokens made without one (tests, the demo) still work; they are unnamed and not tracked.
    """

    token = models.OneToOneField(AuthToken, primary_key=True, on_delete=models.CASCADE, related_name="label")
    # The token's user again, so a name can be unique per user in the database.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="Written at most once a minute.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="tasks_api_token_user_name")]

    def __str__(self) -> str:
        return self.name


def _token_str(token: AuthToken) -> str:
    label = getattr(token, "label", None)
    return f"{label.name if label else 'unnamed'} ({token.token_key}…)"


# Knox's token names itself by its digest, 128 hex digits that mean nothing to a reader and fill
# the admin's titles, breadcrumbs and history; it is named by its label and key prefix instead.
AuthToken.__str__ = _token_str  # type: ignore[method-assign]  # replacing knox's on purpose
