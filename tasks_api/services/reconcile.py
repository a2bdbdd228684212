"""The reconciler: the launch record is the source of truth, and this makes the broker agree with it.

Run every TASKS_API_RECONCILE_SECONDS by beat. Every accepted launch ends in a true final state:
- a launch recorded but never published (the web process died before its publish) is published;
- a run still waiting long after its publish (the broker lost the message: Redis without
  persistence, a flushed queue) is published again; so is a retry not delivered within
  TASKS_API_RETRY_GRACE_SECONDS of the time its attempt said it was due, once per retry, and a
  run STARTED that no process claims whose end could not be stored (a long database outage);
- a run shown STARTED whose claim no live process holds (its worker died, its host is gone) is
  published again, or failed once TASKS_API_MAX_LOST_DELIVERIES deliveries were lost that way;
- a run whose result backend holds a finished state its row lacks (a worker of an earlier
  release wrote only the result, during an upgrade) takes that state.
Publishing twice is safe: a worker never runs a finished run, nor one another process runs.
"""

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django_celery_results.models import TaskResult

from tasks_api.metrics.core import run_finished_count
from tasks_api.models import RunAttempt, TaskLaunch
from tasks_api.runs.transitions import run_lost, runs_adopt_stored
from tasks_api.selectors.stats import queue_lengths
from tasks_api.services.claims import run_is_held
from tasks_api.services.launches import TaskLaunchFailed, launches_publish

logger = logging.getLogger(__name__)
BATCH = 500  # runs handled per kind and pass; the next pass takes the rest


def runs_reconcile() -> dict[str, int]:
    """One pass; returns how many runs each step acted on."""
    try:
        return {
            "published": _publish(_never_published(), mark_failures=True),
            "republished": _publish(_lost_messages(), mark_failures=False),
            "orphans": _recover_orphans(),
            "adopted": len(runs_adopt_stored(limit=BATCH)),
        }
    except TaskLaunchFailed as exc:  # the broker is down: nothing to do until it is back
        logger.warning("Reconciler stopped: %s", exc)
        return {}


def _never_published() -> QuerySet[TaskLaunch]:
    settled = timezone.now() - timedelta(seconds=60)  # the web process publishes right after commit
    return TaskLaunch.objects.filter(enqueued__isnull=True, created_at__lt=settled, revoke_requested_at=None)


def _lost_messages() -> QuerySet[TaskLaunch]:
    """Waiting runs published long ago, retries overdue, and runs let go of but never ended."""
    now = timezone.now()
    waited = timedelta(seconds=settings.TASKS_API_REPUBLISH_AFTER_SECONDS)
    if all(length == 0 for length in queue_lengths(current_app).values()):  # nothing can be waiting
        waited = timedelta(seconds=settings.TASKS_API_LOST_AFTER_SECONDS)
    waiting = Q(status="PENDING", enqueued=True, published_at__lt=now - waited)
    runs = TaskLaunch.objects.filter(status__in=("PENDING", "RETRY", "STARTED"), revoke_requested_at=None)
    runs = runs.annotate(retry_due=_retry_due(), last_stored=_last_stored())
    return runs.filter(waiting | _overdue_retry(now) | _let_go_unended(now))


def _overdue_retry(now) -> Q:
    """A retry not delivered a grace after it was due (its attempt's retry_at), and not published
    again since (or not for TASKS_API_REPUBLISH_AFTER_SECONDS, in case that copy was lost too);
    a retry with no due time recorded, long after it was scheduled."""
    grace = timedelta(seconds=settings.TASKS_API_RETRY_GRACE_SECONDS)
    stale = timedelta(seconds=settings.TASKS_API_RETRY_STALE_SECONDS)
    again = now - timedelta(seconds=settings.TASKS_API_REPUBLISH_AFTER_SECONDS)
    not_since = Q(published_at__isnull=True) | Q(published_at__lt=F("retry_due")) | Q(published_at__lt=again)
    overdue = Q(retry_due__lt=now - grace) & not_since
    unknown = Q(retry_due__isnull=True, last_stored__lt=now - stale, published_at__lt=F("last_stored"))
    return Q(status="RETRY") & (overdue | unknown)


def _let_go_unended(now) -> Q:
    """STARTED, yet no process claims it, for a while: its worker let go of it but could not
    store how it ended (the database was away longer than the write waited). Run again, as
    a sync is idempotent; not counted as a lost delivery (no worker died)."""
    quiet = now - timedelta(seconds=settings.TASKS_API_ORPHAN_AFTER_SECONDS)
    not_since = Q(published_at__isnull=True) | Q(published_at__lt=F("last_stored"))
    return Q(status="STARTED", claimed_by="", last_stored__lt=quiet) & not_since


def _retry_due() -> Subquery:
    attempts = RunAttempt.objects.filter(run_id=OuterRef("task_id"), retry_at__isnull=False)
    return Subquery(attempts.order_by("-retry_at").values("retry_at")[:1])


def _last_stored() -> Subquery:
    # When the run's last state was stored (for a retry: when it was scheduled).
    return Subquery(TaskResult.objects.filter(task_id=OuterRef("task_id")).values("date_done")[:1])


def _publish(launches: QuerySet[TaskLaunch], *, mark_failures: bool) -> int:
    found = list(launches.order_by("created_at")[:BATCH])
    if found:
        launches_publish(launches=found, mark_failures=mark_failures)
        logger.info("Reconciler published %d run(s): %s", len(found), [launch.task_id for launch in found])
    return len(found)


def _recover_orphans() -> int:
    """STARTED runs that no live process holds: published again, or failed after too many."""
    quiet = timezone.now() - timedelta(seconds=settings.TASKS_API_ORPHAN_AFTER_SECONDS)
    started = TaskLaunch.objects.filter(status="STARTED", claimed_at__lt=quiet).exclude(claimed_by="")
    orphans = [run for run in started.order_by("claimed_at")[:BATCH] if not run_is_held(launch=run)]
    for run in orphans:
        _recover(run)
    return len(orphans)


def _recover(run: TaskLaunch) -> None:
    lost, limit = run.lost_deliveries + 1, settings.TASKS_API_MAX_LOST_DELIVERIES
    final = lost >= limit
    message = (
        f"The worker running this task died {lost} times; it is not tried again"
        if final
        else f"The worker running this task died ({run.claimed_by}); delivered again ({lost} of {limit})"
    )
    # Only if the dead claim is still there: a new delivery may have claimed the run meanwhile.
    if not run_lost(task_id=run.task_id, holder=run.claimed_by, final=final, message=message):
        return
    logger.warning("Run %s: %s", run.task_id, message)
    if final:
        run_finished_count(task_type=run.task_type, state="FAILURE")
    else:
        launches_publish(launches=[run], mark_failures=False)
