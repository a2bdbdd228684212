"""Gauges read when Prometheus scrapes: queues, workers, the oldest waiting launch, beat's lease."""

from django.db.models import Min
from django.utils import timezone

from tasks_api.models import SchedulerLease, TaskLaunch
from tasks_api.selectors.leases import BEAT_LEASE as LEASE_NAME
from tasks_api.selectors.stats import celery_stats_get


def queue_depth_read() -> dict[tuple[str, ...], float]:
    """Messages waiting per declared queue (a queue the broker did not answer for is left out)."""
    queues = celery_stats_get()["queues"]  # the lengths are cached a second beside the snapshots
    return {(name,): float(length) for name, length in queues.items() if length is not None}


def workers_online_read() -> dict[tuple[str, ...], float]:
    return {(): float(len(celery_stats_get()["workers_online"]))}


def oldest_pending_age_read() -> dict[tuple[str, ...], float]:
    """Seconds since the oldest launch still waiting for a worker was published; 0 when none."""
    waiting = TaskLaunch.objects.filter(enqueued=True, status="PENDING")  # a partial index's rows
    oldest = waiting.aggregate(oldest=Min("published_at"))["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {(): max(age, 0.0)}


def beat_lease_expiry_read() -> dict[tuple[str, ...], float]:
    """When beat's lease runs out, in unix seconds; 0 when no beat ever took it."""
    expires = SchedulerLease.objects.filter(name=LEASE_NAME).values_list("expires_at", flat=True).first()
    return {(): expires.timestamp() if expires else 0.0}
