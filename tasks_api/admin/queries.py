"""Task runs for the admin: launch records annotated with their result's status and times."""

from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django_celery_results.models import TaskResult

from sii.models import Company
from tasks_api.models import TaskLaunch
from tasks_api.states import FINISHED


def task_runs() -> QuerySet[TaskLaunch]:
    """One row per launch: its status as the API reports it, company name, start and finish."""
    result = TaskResult.objects.filter(task_id=OuterRef("task_id"))
    return (
        TaskLaunch.objects.select_related("user")
        .annotate(
            result_status=Subquery(result.values("status")[:1]),
            result_created_at=Subquery(result.values("date_created")[:1]),
            done_at=Subquery(result.values("date_done")[:1]),
            company_name=Subquery(Company.objects.filter(pk=OuterRef("company_id")).values("name")[:1]),
        )
        .annotate(
            status=_status(),
            finished_at=Case(When(status__in=FINISHED, then=F("done_at"))),
            # A REVOKED row the revoke itself wrote (no worker started the task) has no start.
            started_at=Case(
                When(status="REVOKED", result_created_at__gte=F("revoke_requested_at"), then=Value(None)),
                default=F("result_created_at"),
            ),
        )
        .annotate(
            duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        )
    )


def _status() -> Case:
    # The same precedence as tasks_api.selectors.status: a stored state wins, then the record.
    return Case(
        When(Q(result_status__isnull=False) & ~Q(result_status="PENDING"), then=F("result_status")),
        When(enqueued=False, then=Value("FAILURE")),
        When(revoke_requested_at__isnull=False, then=Value("REVOKED")),
        default=Value("PENDING"),
    )
