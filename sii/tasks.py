"""Celery tasks of the sii app: thin wrappers that look things up and call a service.

The control-plane behaviour (revocation, retries recorded, progress, fan-out records) comes
from tasks_api's RecordedTask; SiiTask adds only the SII's own options, SiiSyncTask the retry
budgets of a sync that logs into the SII as a company.
"""

import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from sii.client.errors import SiiBadCredentials, SiiPaused, SiiTransientError, SiiUnavailable
from sii.governor.gate import Wait
from sii.models import Company
from sii.selectors import company_get, company_ids_with_active_subscription, company_ids_with_sii_credentials
from sii.services.clients import sii_client_for, wait_text
from sii.services.credentials import CompanyClaveRejected, clave_rejected_at_text
from sii.services.documents import documents_sync
from sii.services.f29 import f29_sync
from sii.services.locks import (
    CompanySyncBusy,
    company_sync_session,
    company_sync_wait_countdown,
    company_sync_wait_limit,
)
from sii.services.periods import current_year
from tasks_api.catalog import RecordedTask

logger = logging.getLogger(__name__)

# Carried from retry to retry in the message headers: how often, and since when (epoch seconds),
# a sync found its company busy.
LOCK_WAITS_HEADER = "sii_lock_waits"
LOCK_WAITING_SINCE_HEADER = "sii_lock_waiting_since"
# The same for the SII being unavailable (the governor's breaker paused the sync).
PAUSES_HEADER = "sii_pauses"
PAUSED_SINCE_HEADER = "sii_paused_since"
RETRY_BACKOFF_MAX = 30 * 60
# The SII refusing a company's clave is an operator's to fix, not a bug: the run fails with the
# SII's message, the worker notes it at INFO without a traceback (Task.throws), and the task
# logs one WARNING line saying what to do.
EXPECTED_REFUSALS = (SiiBadCredentials, CompanyClaveRejected)


class SiiTask(RecordedTask):
    fanout_batch_size = settings.SII_FANOUT_BATCH_SIZE


class SiiSyncTask(SiiTask):
    """A sync of one company. It tries again later, each on its own budget, after a transient SII
    error (SII_MAX_RETRIES times, exponential backoff with jitter), while another sync holds
    the company (short jittered waits, for up to company_sync_wait_limit()) and while the SII is
    down for everyone (the governor's breaker, for up to SII_PAUSE_MAX_SECONDS). Bad credentials
    and a rejected clave never retry: the SII locks accounts after repeated wrong logins."""

    max_retries = settings.SII_MAX_RETRIES
    throws = EXPECTED_REFUSALS
    soft_time_limit = settings.SII_SYNC_SOFT_TIME_LIMIT
    time_limit = settings.SII_SYNC_TIME_LIMIT

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except CompanySyncBusy as exc:
            raise self._retry_when_free(exc) from exc
        except SiiPaused as exc:
            raise self._retry_when_back(exc) from exc
        except SiiTransientError as exc:
            raise self._retry_transient(exc) from exc

    def _retry_when_free(self, exc: CompanySyncBusy) -> Exception:
        headers = dict(self.request.headers or {})
        waits = int(headers.get(LOCK_WAITS_HEADER, 0))
        since = float(headers.get(LOCK_WAITING_SINCE_HEADER, time.time()))
        if time.time() - since > company_sync_wait_limit():
            minutes = round((time.time() - since) / 60)
            raise CompanySyncBusy(f"{exc}; gave up after waiting {minutes} minutes") from exc
        headers |= {LOCK_WAITS_HEADER: waits + 1, LOCK_WAITING_SINCE_HEADER: since}
        # Celery counts every retry in request.retries; allowing one more keeps this wait off
        # the transient budget (which _retry_transient widens by the waits so far).
        countdown = company_sync_wait_countdown(waits=waits)
        return self.retry(exc=exc, countdown=countdown, max_retries=self.request.retries + 1, headers=headers)

    def _retry_when_back(self, exc: SiiPaused) -> Exception:
        """The SII is down for every sync of a surface: try again about when its next probe goes."""
        headers = dict(self.request.headers or {})
        # When this run first found the SII paused, on this worker's clock (exc.since is Redis's).
        since = float(headers.get(PAUSED_SINCE_HEADER, time.time()))
        exc.args = (f"waiting: {wait_text(Wait('paused', exc.surface, 0, exc.since))}",)
        if time.time() - since > settings.SII_PAUSE_MAX_SECONDS:
            hours = round((time.time() - since) / 3600, 1)
            return SiiUnavailable(f"{exc.args[0]}; gave up after waiting {hours} hours")
        headers |= {PAUSES_HEADER: int(headers.get(PAUSES_HEADER, 0)) + 1, PAUSED_SINCE_HEADER: since}
        # Spread over the next minute after the probe: the first back need not all start at once.
        countdown = max(exc.retry_in, 1) + random.uniform(0, settings.SII_PAUSE_WAIT_SECONDS)
        return self.retry(exc=exc, countdown=countdown, max_retries=self.request.retries + 1, headers=headers)

    def report_sii_wait(self, wait: Wait | None) -> None:
        """The governor's on_wait: what the sync waits for, on its attempt and in its meta."""
        self.report_waiting(waiting=wait_text(wait) if wait else "")

    def _retry_transient(self, exc: SiiTransientError) -> Exception:
        # Retries spent waiting for the company, for the SII or for the database are not the SII's.
        headers = self.request.headers or {}
        waits = (
            int(headers.get(LOCK_WAITS_HEADER, 0))
            + int(headers.get(PAUSES_HEADER, 0))
            + self.outage_retries()
        )
        transient_retries = self.request.retries - waits
        countdown = get_exponential_backoff_interval(
            factor=settings.SII_RETRY_BACKOFF,
            retries=transient_retries,
            maximum=RETRY_BACKOFF_MAX,
            full_jitter=True,
        )
        # Past the budget, Celery raises `exc` itself: the run fails with the SII's error.
        return self.retry(exc=exc, countdown=countdown, max_retries=settings.SII_MAX_RETRIES + waits)


@shared_task(name="sii.sync_documents", bind=True, base=SiiSyncTask)
def sync_documents(self: SiiSyncTask, company_id: str, months: int = 1, month_offset: int = 0) -> dict:
    """Sync one company's purchases, sales and fee receipts."""
    company = company_get(company_id=company_id)
    with refusal_warned(company=company), company_sync_session(company=company, holder=self.request.id):
        client = sii_client_for(company, on_wait=self.report_sii_wait)
        return documents_sync(
            company=company,
            months=months,
            month_offset=month_offset,
            progress=self.report_progress,
            client=client,
        )


@shared_task(name="sii.sync_f29", bind=True, base=SiiSyncTask)
def sync_f29(self: SiiSyncTask, company_id: str, year: str | None = None) -> dict:
    """Sync one company's F29 declarations for a year (default: the current year)."""
    company = company_get(company_id=company_id)
    with refusal_warned(company=company), company_sync_session(company=company, holder=self.request.id):
        client = sii_client_for(company, on_wait=self.report_sii_wait)
        return f29_sync(
            company=company, year=year or current_year(), progress=self.report_progress, client=client
        )


@contextmanager
def refusal_warned(*, company: Company) -> Iterator[None]:
    """Log the SII's refusal of the company's clave as one WARNING line that says what to do."""
    try:
        yield
    except EXPECTED_REFUSALS:
        # Set when an earlier sync met the refusal (this one then never logged in).
        rejected_at = company.sii_password_rejected_at
        when = f" on {clave_rejected_at_text(rejected_at)}" if rejected_at else ""
        logger.warning(
            "Company %s (RUT %s) not synced: the SII rejected its clave%s. Enter the correct clave in "
            "the admin (Companies > %s > SII password), then sync again.",
            company.name, company.rut_formatted, when, company.name,
        )  # fmt: skip
        raise


@shared_task(name="sii.sync_documents_all_companies", bind=True, base=SiiTask)
def sync_documents_all_companies(self: SiiTask, months: int = 1, month_offset: int = 0) -> dict:
    """Fan out sii.sync_documents to every company with an active subscription."""
    params = {"months": months, "month_offset": month_offset}
    skipped = company_ids_with_active_subscription(rejected_clave=True)
    return _fan_out(self, "sii.sync_documents", company_ids_with_active_subscription(), params, skipped)


@shared_task(name="sii.sync_f29_all_companies", bind=True, base=SiiTask)
def sync_f29_all_companies(self: SiiTask, year: str | None = None) -> dict:
    """Fan out sii.sync_f29 to every company that has SII credentials."""
    params = {"year": year or current_year()}
    skipped = company_ids_with_sii_credentials(rejected_clave=True)
    return _fan_out(self, "sii.sync_f29", company_ids_with_sii_credentials(), params, skipped)


def _fan_out(
    task: SiiTask, child_type: str, company_ids: list[str], params: dict, skipped: list[str]
) -> dict:
    # Children are independent messages, not a chord: one failing company fails nobody else,
    # and nothing serialises on a shared counter row in the result backend.
    dispatched = task.launch_children(
        task_type=child_type,
        params_list=[{"company_id": company_id, **params} for company_id in company_ids],
    )
    if skipped:  # each would only fail at once: the operator must fix the clave first
        logger.warning("%s: skipped %d companies whose clave the SII rejected", child_type, len(skipped))
    result = {"success": True, "task_type": child_type, "params": params, "dispatched": dispatched}
    return {**result, "skipped_rejected_clave": len(skipped)}
