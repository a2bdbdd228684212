"""One SII session per company at a time: a lock on the company's row held for a run, as long as
that run is live (its claim held by a live process), and the waits of the syncs it keeps out."""

import logging
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from sii.client.errors import SiiBadCredentials
from sii.models import Company
from sii.selectors import CompanyNotFound, company_sync_lock_get
from sii.services.credentials import company_clave_accept, company_clave_check, company_clave_reject
from tasks_api.catalog import run_is_live

logger = logging.getLogger(__name__)

# Beyond the hard time limit: the expiry is a backstop; a dead holder's lock is taken over at once.
LOCK_MARGIN = timedelta(seconds=60)
# A sync that found its company busy tries again after about 2, 4, 8 ... seconds, at most 15:
# a holder that ends, whatever the ending, lets the next sync of the company in within seconds.
WAIT_FIRST_SECONDS = 2
WAIT_MAX_SECONDS = 15


class CompanySyncBusy(Exception):
    """Another sync holds the company's lock: this one waits and tries again later."""


@contextmanager
def company_sync_session(*, company: Company, holder: str) -> Iterator[None]:
    """Run a sync that logs into the SII as the company: never with a clave the SII rejected,
    never alongside another sync of it; a rejection met on the way is recorded."""
    company_clave_check(company=company)  # refused at once, without waiting for the lock
    with company_sync_lock(company=company, holder=holder):
        # A sync that waited must see a rejection, or a new clave, stored meanwhile.
        company.refresh_from_db()
        company_clave_check(company=company)
        try:
            yield
        except SiiBadCredentials:
            company_clave_reject(company=company)
            raise
        # A sync that ended well logged in (every sync step needs a session).
        company_clave_accept(company=company)


@contextmanager
def company_sync_lock(*, company: Company, holder: str) -> Iterator[None]:
    """Hold the company's sync lock as `holder` (a task id), or raise CompanySyncBusy.

    Taken when free, expired, already the holder's (a redelivered task) or held for a run that is
    no longer live (it ended, or its worker died: tasks_api's claims); released on the way out.
    """
    if not holder:
        raise ValueError("A company sync lock needs a holder")
    _acquire(company.pk, holder)
    try:
        yield
    finally:
        _release(company.pk, holder)


def company_sync_lock_ttl() -> timedelta:
    """How long a lock lasts unless released: the task's hard time limit plus a margin."""
    return timedelta(seconds=settings.SII_SYNC_TIME_LIMIT) + LOCK_MARGIN


def company_sync_wait_countdown(*, waits: int) -> float:
    """Seconds before a sync that found its company busy `waits` times already tries again."""
    ceiling = min(WAIT_MAX_SECONDS, WAIT_FIRST_SECONDS * 2 ** min(waits, 10))
    # Jittered (half to all of it) so that syncs waiting for one company do not return together.
    return random.uniform(ceiling / 2, ceiling)


def company_sync_wait_limit() -> float:
    """Seconds a sync waits for its company before failing: two lock lifetimes, time for the
    holder to finish or, killed, for its lock to expire, with room for one more sync in between."""
    return 2 * company_sync_lock_ttl().total_seconds()


def _acquire(company_id: uuid.UUID, holder: str) -> None:
    if _take(company_id, holder):
        return
    lock = company_sync_lock_get(company_id=company_id)
    if lock is None:
        raise CompanyNotFound()
    current = lock[0]
    if not current and _take(company_id, holder):  # released between the two statements
        return
    if current and not run_is_live(task_id=current) and _take_over(company_id, holder, lock=lock):
        logger.warning(
            "Company %s: took over the sync lock of run %s, no longer running", company_id, current
        )
        return
    raise CompanySyncBusy(f"another sync of this company is running (task {current or 'unknown'})")


def _take(company_id: uuid.UUID, holder: str) -> bool:
    # One conditional UPDATE: the database lets one of two concurrent syncs match the row.
    now = timezone.now()
    free = Q(sync_lock_expires_at__isnull=True) | Q(sync_lock_expires_at__lt=now) | Q(sync_lock_holder=holder)
    expires_at = now + company_sync_lock_ttl()
    taken = Company.objects.filter(free, pk=company_id).update(
        sync_lock_holder=holder, sync_lock_expires_at=expires_at
    )
    return taken == 1


def _take_over(company_id: uuid.UUID, holder: str, *, lock: tuple[str, datetime | None]) -> bool:
    # Conditional on the lock as read, expiry included: of two syncs taking it over one matches
    # the row, and none once the dead run's redelivery has taken its lock again (a new expiry).
    dead, expired_at = lock
    expires_at = timezone.now() + company_sync_lock_ttl()
    taken = Company.objects.filter(
        pk=company_id, sync_lock_holder=dead, sync_lock_expires_at=expired_at
    ).update(sync_lock_holder=holder, sync_lock_expires_at=expires_at)
    return taken == 1


def _release(company_id: uuid.UUID, holder: str) -> None:
    try:
        # Only our own lock: once expired, it may belong to another sync now.
        Company.objects.filter(pk=company_id, sync_lock_holder=holder).update(
            sync_lock_holder="", sync_lock_expires_at=None
        )
    except DatabaseError:
        # Raising here would hide why the sync ended; the lock is free anyway once this run is
        # no longer live (the next sync takes it over), or when it expires.
        logger.warning("Could not release the sync lock of company %s", company_id, exc_info=True)
