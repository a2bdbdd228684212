"""Leases: who holds one now."""

from django.db.models.functions import Now

from tasks_api.models import SchedulerLease

BEAT_LEASE = "celery.beat"  # the lease whose holder is the one beat that sends schedules


def lease_holder_get(*, name: str) -> str | None:
    """The holder of the lease while it is unexpired; None when nobody holds it."""
    unexpired = SchedulerLease.objects.filter(name=name, expires_at__gte=Now())
    return unexpired.values_list("holder", flat=True).first()
