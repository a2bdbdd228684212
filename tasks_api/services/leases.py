"""Leases: a lock with an expiry in the database, so one process of several does a singleton's job."""

from datetime import UTC, datetime, timedelta

from django.db.models import DateTimeField, ExpressionWrapper, Q
from django.db.models.functions import Now

from tasks_api.models import SchedulerLease

# A missing lease is created already expired; the conditional UPDATE then decides who takes it.
_LONG_EXPIRED = datetime(2000, 1, 1, tzinfo=UTC)


def lease_acquire(*, name: str, holder: str, ttl: float) -> bool:
    """Take the lease, or renew it if `holder` has it, for `ttl` seconds from now.

    False while another holder's lease is unexpired. One conditional UPDATE decides, so of two
    processes racing for a free or expired lease exactly one wins. Times are the database's
    clock, not the hosts', so clock skew between hosts cannot hand the lease to two of them.
    """
    if _lease_take(name=name, holder=holder, ttl=ttl):
        return True
    # get_or_create survives a race to create the row (it catches the IntegrityError).
    _, created = SchedulerLease.objects.get_or_create(
        name=name, defaults={"holder": "", "expires_at": _LONG_EXPIRED}
    )
    return created and _lease_take(name=name, holder=holder, ttl=ttl)


def _lease_take(*, name: str, holder: str, ttl: float) -> bool:
    expires_at = ExpressionWrapper(Now() + timedelta(seconds=ttl), output_field=DateTimeField())
    mine_or_expired = Q(holder=holder) | Q(expires_at__lt=Now())
    taken = SchedulerLease.objects.filter(mine_or_expired, name=name).update(
        holder=holder, expires_at=expires_at
    )
    return taken == 1


def lease_release(*, name: str, holder: str) -> bool:
    """Give the lease up at once (a clean shutdown), so another process need not wait it out.

    Does nothing, and returns False, when `holder` no longer holds it.
    """
    deleted, _ = SchedulerLease.objects.filter(name=name, holder=holder).delete()
    return deleted > 0
