"""Reads: companies by id (with a clear error), the fan-outs' company lists, RUT searches, counts,
and each company's sync runs (last per kind, recent, failing)."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, TypedDict

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from sii import rut
from sii.models import (
    Company,
    F29Declaration,
    FeeReceipt,
    NetTotals,
    PurchaseDocument,
    RcvAmountsQuerySet,
    RcvSummary,
    SaleDocument,
)
from tasks_api.runs import TaskLaunch, task_runs

if TYPE_CHECKING:  # for the type checker only: django-stubs-ext is a development tool here
    from django_stubs_ext import WithAnnotations

    from tasks_api.runs import TaskRun

_WITH_DASH = re.compile(r"^(\d{1,8})-[\dK]$")
_WITHOUT_DASH = re.compile(r"^\d{1,9}[\dK]?$")

SYNCED_MODELS = {
    "purchases": PurchaseDocument,
    "sales": SaleDocument,
    "RCV summaries": RcvSummary,
    "fee receipts": FeeReceipt,
    "F29 declarations": F29Declaration,
}


class CompanyNotFound(Exception):
    """No company has that id; the task fails with this message and is not retried."""

    def __init__(self, message: str = "Company not found") -> None:
        super().__init__(message)


def company_get(*, company_id: str) -> Company:
    try:
        return Company.objects.get(pk=uuid.UUID(str(company_id)))
    except (ValueError, Company.DoesNotExist):
        raise CompanyNotFound() from None


def company_exists(*, company_id: uuid.UUID | str) -> bool:
    """Asked by every launch for a company: written out, not compiled by the ORM each time."""
    # The id as the column stores it (a uuid on PostgreSQL, 32 hex digits on SQLite).
    stored_id = Company._meta.pk.get_db_prep_value(company_id, connection)  # type: ignore[union-attr]  # a model always has a pk
    with connection.cursor() as cursor:
        cursor.execute(_company_exists_sql(), [stored_id])
        return cursor.fetchone() is not None


@cache
def _company_exists_sql() -> str:
    table = connection.ops.quote_name(Company._meta.db_table)
    return f"SELECT 1 FROM {table} WHERE id = %s"  # noqa: S608 (the model's table; the id is a parameter)


def company_ids_with_active_subscription(*, rejected_clave: bool = False) -> list[str]:
    """The documents fan-out's companies: subscribed, whose clave the SII has not rejected
    (with `rejected_clave=True`, the subscribed ones it skips because the SII did)."""
    companies = Company.objects.with_active_subscription().with_rejected_clave(rejected_clave)
    return [str(pk) for pk in companies.values_list("pk", flat=True)]


def company_ids_with_sii_credentials(*, rejected_clave: bool = False) -> list[str]:
    """The F29 fan-out's companies: with a stored clave the SII has not rejected (with
    `rejected_clave=True`, the ones it skips because the SII did)."""
    companies = Company.objects.with_sii_credentials().with_rejected_clave(rejected_clave)
    return [str(pk) for pk in companies.values_list("pk", flat=True)]


def company_sync_lock_get(*, company_id) -> tuple[str, datetime | None] | None:
    """The task holding the company's sync lock ("" when free) and when the lock expires; None
    when there is no such company."""
    return (
        Company.objects.filter(pk=company_id).values_list("sync_lock_holder", "sync_lock_expires_at").first()
    )


def rut_bodies_matching(text: str) -> set[int]:
    """RUT bodies a search term may mean: '76.086.428-5' and '76086428-5' mean 76086428;
    '76086428' may be a body without its check digit, or a body plus check digit."""
    compact = text.strip().replace(".", "").replace(" ", "").upper()
    if match := _WITH_DASH.match(compact):
        return {int(match.group(1))}
    if not _WITHOUT_DASH.match(compact):
        return set()
    bodies = {int(compact)} if compact.isdigit() else set()
    if len(compact) > 1 and rut.check_digit(int(compact[:-1])) == compact[-1]:
        bodies.add(int(compact[:-1]))
    return bodies


def company_ids_matching(term: str, *, limit: int = 500) -> list:
    """Companies a search term may mean: by name, or by RUT in any spelling."""
    term = term.strip()
    if not term:
        return []
    by_name = Company.objects.filter(name__icontains=term)
    by_rut = Company.objects.filter(rut_body__in=rut_bodies_matching(term))
    return list((by_name | by_rut).values_list("pk", flat=True)[:limit])


class CompanyListAnnotations(TypedDict):
    subscription_active: bool
    last_documents_status: str | None
    last_documents_at: datetime | None
    last_documents_task_id: str | None
    last_f29_status: str | None
    last_f29_at: datetime | None
    last_f29_task_id: str | None


if TYPE_CHECKING:
    # A company as the admin lists it: with company_list_annotate's columns.
    ListedCompany = WithAnnotations[Company, CompanyListAnnotations]


def company_list_annotate(*, queryset: QuerySet[Company]) -> "QuerySet[ListedCompany]":
    """Add `subscription_active` and each kind's last sync run (`last_<kind>_status`, `_at`,
    `_task_id`) in the same query, so a list never asks per row."""
    active = Company.objects.with_active_subscription().filter(pk=OuterRef("pk"))
    queryset = queryset.annotate(subscription_active=Exists(active))
    for kind, task_type in SYNC_TASK_TYPES.items():
        queryset = queryset.annotate(**_last_run_columns(f"last_{kind}", task_type))
    return queryset  # type: ignore[return-value]  # the stubs cannot follow the columns' names


def company_document_counts(*, company: Company) -> dict[str, int]:
    """How many rows of each kind were synced for the company: one COUNT per model."""
    return {
        label: model._default_manager.filter(company=company).count()
        for label, model in SYNCED_MODELS.items()
    }


def rcv_period_totals(
    *, company: Company, period: str, operacion: str, estado_contable: str = "REGISTRO"
) -> NetTotals:
    """A period's net compras or ventas as the accountant adds them: per-document rows plus the
    monthly summary-only types (boletas), credit notes subtracting. Two aggregate queries.

    Purchases are kept in all four accounting states; only `estado_contable` ones count (the
    registro by default). Sales are synced from the registro only, so they all count."""
    documents = _rcv_documents(operacion=operacion, estado_contable=estado_contable)
    summaries = RcvSummary.objects.filter(operacion=operacion, estado_contable=estado_contable)
    detail = documents.period_totals(company=company, period=period)
    monthly = summaries.period_totals(company=company, period=period)
    return NetTotals(
        exento=detail["exento"] + monthly["exento"],
        neto=detail["neto"] + monthly["neto"],
        iva=detail["iva"] + monthly["iva"],
        total=detail["total"] + monthly["total"],
    )


def _rcv_documents(*, operacion: str, estado_contable: str) -> RcvAmountsQuerySet:
    if operacion == RcvSummary.Operacion.COMPRA:
        return PurchaseDocument.objects.filter(estado_contable=estado_contable)
    if operacion == RcvSummary.Operacion.VENTA:
        return SaleDocument.objects.all()
    raise ValueError(f"operacion must be COMPRA or VENTA, not {operacion!r}")


# A company's sync runs: launch records whose subject is the company (tasks_api's TaskLaunch),
# in the state stored on each.

# The per-company sync task types, by the kind the console names them with.
SYNC_TASK_TYPES = {"documents": "sii.sync_documents", "f29": "sii.sync_f29"}


def _last_run_columns(prefix: str, *task_types: str) -> dict[str, Subquery]:
    """The outer company's last run of these types: its status, launch time and task id."""
    runs = TaskLaunch.objects.filter(subject_id=OuterRef("pk"), task_type__in=task_types).order_by(
        "-created_at"
    )
    return {
        f"{prefix}_status": Subquery(runs.values("status")[:1]),
        f"{prefix}_at": Subquery(runs.values("created_at")[:1]),
        f"{prefix}_task_id": Subquery(runs.values("task_id")[:1]),
    }


def run_error(run: TaskLaunch) -> str:
    """Why a run failed, in the API status's words; "" unless it failed."""
    return (run.error or "failed") if run.status == "FAILURE" else ""


def company_recent_runs(*, company_id, limit: int = 10) -> "list[TaskRun]":
    """The company's last `limit` runs of any kind, newest first: one query."""
    return list(task_runs().filter(subject_id=company_id).order_by("-created_at")[:limit])


def company_last_syncs(*, company_id) -> "dict[str, TaskRun | None]":
    """Each kind's last sync run of the company (None when never run): one query per kind."""
    runs = task_runs().filter(subject_id=company_id).order_by("-created_at")
    return {kind: runs.filter(task_type=task_type).first() for kind, task_type in SYNC_TASK_TYPES.items()}


def company_last_failure(*, company_id) -> "TaskRun | None":
    """The company's most recent failed sync run, of any kind."""
    runs = task_runs().filter(subject_id=company_id, task_type__in=SYNC_TASK_TYPES.values())
    return runs.filter(status="FAILURE").order_by("-created_at").first()


def failed_last_syncs() -> list[tuple[str, uuid.UUID]]:
    """(task id, company id) of each company whose most recent sync (of any kind) failed,
    newest first: one query over the failed syncs (the status index), each kept if it is its
    company's last sync (the (subject_id, created_at) index says)."""
    syncs = TaskLaunch.objects.filter(task_type__in=SYNC_TASK_TYPES.values(), subject_id__isnull=False)
    newest = syncs.filter(subject_id=OuterRef("subject_id")).order_by("-created_at").values("task_id")[:1]
    last_failed = syncs.filter(status="FAILURE", task_id=Subquery(newest)).order_by("-created_at")
    failed: dict[uuid.UUID | None, str] = {}
    for task_id, company_id in last_failed.values_list("task_id", "subject_id"):
        failed.setdefault(company_id, task_id)  # two launches in the same microsecond: the first
    return [(task_id, company_id) for company_id, task_id in failed.items() if company_id is not None]


@dataclass(frozen=True)
class FailingCompany:
    company: Company
    run: "TaskRun"
    error: str


@dataclass(frozen=True)
class FailingCompanies:
    top: list[FailingCompany]
    total: int


def companies_failing(*, limit: int = 10) -> FailingCompanies:
    """The first `limit` companies whose last sync failed, each with that run and why, and how
    many there are: four queries, however many companies there are."""
    failed = failed_last_syncs()
    shown = [task_id for task_id, _ in failed[:limit]]
    runs = task_runs().filter(task_id__in=shown).order_by("-created_at")
    companies = Company.objects.in_bulk([company_id for _, company_id in failed[:limit]])
    rows = [
        FailingCompany(company=companies[run.subject_id], run=run, error=run_error(run))
        for run in runs
        if run.subject_id in companies
    ]
    return FailingCompanies(top=rows, total=len(failed))
