"""Reads: companies by id (with a clear error), the fan-outs' company lists, RUT searches, counts."""

import re
import uuid
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, OuterRef, QuerySet

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


def company_sync_lock_holder(*, company_id) -> str | None:
    """The task holding the company's sync lock ("" when free); None when there is no such company."""
    return Company.objects.filter(pk=company_id).values_list("sync_lock_holder", flat=True).first()


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


if TYPE_CHECKING:  # for the type checker only: django-stubs-ext is a development tool here
    from django_stubs_ext import WithAnnotations

    # A company as the admin lists it: with company_list_annotate's columns.
    ListedCompany = WithAnnotations[Company, CompanyListAnnotations]


def company_list_annotate(*, queryset: QuerySet[Company]) -> "QuerySet[ListedCompany]":
    """Add `subscription_active` in the same query, so a list never asks per row."""
    active = Company.objects.with_active_subscription().filter(pk=OuterRef("pk"))
    return queryset.annotate(subscription_active=Exists(active))


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
