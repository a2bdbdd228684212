"""The run history's and a fan-out's children's shapes: query filters, one run, a page of runs."""

from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tasks_api.models import RunAttempt, TaskLaunch
from tasks_api.registry import catalog
from tasks_api.selectors.history import run_error
from tasks_api.states import STATUSES


def whole_number(low: int, high: int | None = None) -> dict[str, Any]:
    """Error messages for an integer query parameter, said as what it must be."""
    bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
    message = f"must be a whole number {bounds}"
    return dict.fromkeys(("invalid", "min_value", "max_value", "max_string_length"), message)


def one_of(choices) -> dict[str, Any]:
    return {"invalid_choice": f"must be one of {', '.join(choices)}"}


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(
        required=False, min_value=1, error_messages=whole_number(1), help_text="Page number, from 1."
    )
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.TASKS_API_MAX_PAGE_SIZE,
        error_messages=whole_number(1, settings.TASKS_API_MAX_PAGE_SIZE),
        help_text=f"Runs per page (default {settings.TASKS_API_PAGE_SIZE}).",
    )


class TaskChildrenQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(
        choices=STATUSES,
        required=False,
        error_messages=one_of(STATUSES),
        help_text="Only children in this state.",
    )


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time, in UTC (a time without offset, or a bare date, is local). A time so
    early or late that UTC cannot hold it is clamped: no run is that old, nor that new."""

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            value = super().enforce_timezone(value)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            return (datetime.max if value.year > 1 else datetime.min).replace(tzinfo=UTC)


def subject_names() -> list[str]:
    """The parameter names the catalog's task types declare as their subject (e.g. an id)."""
    return sorted({t.subject for t in catalog().values() if t.subject})


@cache
def runs_query_serializer() -> type[serializers.Serializer]:
    """The run history's filters: task type, status, launched after, and one per subject name."""
    subjects = {
        name: serializers.UUIDField(
            required=False,
            error_messages={"invalid": "must be a UUID"},
            help_text=f"Only runs about this {name}.",
        )
        for name in subject_names()
    }
    fields = {
        "task_type": serializers.ChoiceField(
            choices=sorted(catalog()), required=False, error_messages=one_of(sorted(catalog()))
        ),
        "status": serializers.ChoiceField(
            choices=STATUSES,
            required=False,
            error_messages=one_of(STATUSES),
            help_text="Only runs in this state.",
        ),
        **subjects,
        "launched_after": AwareDateTimeField(
            required=False, help_text="Only runs launched at or after this time."
        ),
    }
    return type("TaskRunsQuerySerializer", (PageQuerySerializer,), {"__module__": __name__, **fields})


@extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
class RunSubjectField(serializers.Field):
    """The run's subject id under the parameter name its task type declares; null for other names."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, run):
        declared = catalog().get(run.task_type)
        if declared is None or declared.subject != self.field_name or run.subject_id is None:
            return None
        return str(run.subject_id)


@extend_schema_field({"type": "string", "nullable": True})
class RunErrorField(serializers.Field):
    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, run):
        return run_error(run)


@cache
def task_run_serializer() -> type[serializers.Serializer]:
    """One run in the history or among a parent's children; a field per catalog subject name."""
    fields = {
        "task_id": serializers.CharField(),
        "task_type": serializers.CharField(),
        "status": serializers.ChoiceField(choices=STATUSES),
        **{name: RunSubjectField(help_text=f"The run's {name}, if it has one.") for name in subject_names()},
        "params": serializers.JSONField(),
        "launched_by": serializers.ChoiceField(choices=TaskLaunch.LaunchedBy.choices),
        "user": serializers.CharField(source="user.username", allow_null=True, help_text="Who launched it."),
        "parent_task_id": serializers.CharField(source="parent_id", allow_null=True),
        "relaunch_of": serializers.CharField(source="relaunch_of_id", allow_null=True),
        "launched_at": serializers.DateTimeField(source="created_at"),
        "started_at": serializers.DateTimeField(allow_null=True),
        "finished_at": serializers.DateTimeField(allow_null=True),
        "error": RunErrorField(help_text="Why it failed, in words (FAILURE only)."),
    }
    return type("TaskRunSerializer", (serializers.Serializer,), {"__module__": __name__, **fields})


@cache
def task_run_page_serializer() -> type[serializers.Serializer]:
    """A page of runs, DRF's page-number shape: count (all pages), next, previous, results."""
    fields = {
        "count": serializers.IntegerField(help_text="Runs on every page together."),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": task_run_serializer()(many=True),
    }
    return type("TaskRunPageSerializer", (serializers.Serializer,), {"__module__": __name__, **fields})


class RunAttemptSerializer(serializers.Serializer):
    """One delivery of a run to a worker."""

    number = serializers.IntegerField(
        allow_null=True, help_text="The delivery's number (1 for the first); null for a skipped duplicate."
    )
    worker = serializers.CharField(help_text="The worker's node name (celery@host).")
    pid = serializers.IntegerField(allow_null=True, help_text="The worker process's id.")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="Null while it runs.")
    outcome = serializers.ChoiceField(
        choices=RunAttempt.Outcome.values,
        help_text=(
            "running, succeeded, failed, retry (a retry was scheduled), lost (the worker died), "
            "revoked, or skipped (a duplicate delivery of a run that had finished or ran elsewhere)."
        ),
    )
    error_type = serializers.CharField(help_text="The exception's type; empty when none.")
    reason = serializers.CharField(
        source="error_message", help_text="Why it failed, was retried, lost or skipped; empty when none."
    )
    retry_at = serializers.DateTimeField(allow_null=True, help_text="When the scheduled retry is due.")
    waiting = serializers.CharField(
        help_text="What the running attempt waits for now (the SII's pace, or the SII coming back); empty when nothing."
    )


class RunAttemptPageSerializer(serializers.Serializer):
    """A page of attempts, DRF's page-number shape."""

    count = serializers.IntegerField(help_text="Attempts on every page together.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunAttemptSerializer(many=True)
