"""Celery tasks of the sii app: thin wrappers that look things up and call a service.

The control-plane behaviour (revocation, retries recorded, progress, fan-out records) comes
from tasks_api's RecordedTask; SiiTask adds only the SII's own options.
"""

from celery import shared_task
from django.conf import settings

from sii.client.errors import SiiTransientError
from sii.selectors import company_get, company_ids_with_active_subscription, company_ids_with_sii_credentials
from sii.services.documents import documents_sync
from sii.services.f29 import f29_sync
from sii.services.periods import current_year
from tasks_api.tasks import RecordedTask


class SiiTask(RecordedTask):
    fanout_batch_size = settings.SII_FANOUT_BATCH_SIZE


SYNC_OPTIONS = {
    "bind": True,
    "base": SiiTask,
    # Only transient SII errors retry; bad credentials never do (the SII locks accounts).
    "autoretry_for": (SiiTransientError,),
    "max_retries": settings.SII_MAX_RETRIES,
    "retry_backoff": settings.SII_RETRY_BACKOFF,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "soft_time_limit": settings.SII_SYNC_SOFT_TIME_LIMIT,
    "time_limit": settings.SII_SYNC_TIME_LIMIT,
}


@shared_task(name="sii.sync_documents", **SYNC_OPTIONS)
def sync_documents(self: SiiTask, company_id: str, months: int = 1, month_offset: int = 0) -> dict:
    """Sync one company's purchases, sales and fee receipts."""
    company = company_get(company_id=company_id)
    return documents_sync(
        company=company, months=months, month_offset=month_offset, progress=self.report_progress
    )


@shared_task(name="sii.sync_f29", **SYNC_OPTIONS)
def sync_f29(self: SiiTask, company_id: str, year: str | None = None) -> dict:
    """Sync one company's F29 declarations for a year (default: the current year)."""
    company = company_get(company_id=company_id)
    return f29_sync(company=company, year=year or current_year(), progress=self.report_progress)


@shared_task(name="sii.sync_documents_all_companies", bind=True, base=SiiTask)
def sync_documents_all_companies(self: SiiTask, months: int = 1, month_offset: int = 0) -> dict:
    """Fan out sii.sync_documents to every company with an active subscription."""
    params = {"months": months, "month_offset": month_offset}
    return _fan_out(self, "sii.sync_documents", company_ids_with_active_subscription(), params)


@shared_task(name="sii.sync_f29_all_companies", bind=True, base=SiiTask)
def sync_f29_all_companies(self: SiiTask, year: str | None = None) -> dict:
    """Fan out sii.sync_f29 to every company that has SII credentials."""
    params = {"year": year or current_year()}
    return _fan_out(self, "sii.sync_f29", company_ids_with_sii_credentials(), params)


def _fan_out(task: SiiTask, child_type: str, company_ids: list[str], params: dict) -> dict:
    # Children are independent messages, not a chord: one failing company fails nobody else,
    # and nothing serialises on a shared counter row in the result backend.
    dispatched = task.launch_children(
        task_type=child_type,
        params_list=[{"company_id": company_id, **params} for company_id in company_ids],
    )
    return {"success": True, "task_type": child_type, "params": params, "dispatched": dispatched}
