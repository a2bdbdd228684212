"""Reads for the admin: RUT searches, subscription flags, counts of what was synced."""

import re

from django.db.models import Exists, OuterRef, QuerySet

from sii import rut
from sii.models import Company, F29Declaration, FeeReceipt, PurchaseDocument, RcvSummary, SaleDocument

_WITH_DASH = re.compile(r"^(\d{1,8})-[\dK]$")
_WITHOUT_DASH = re.compile(r"^\d{1,9}[\dK]?$")

SYNCED_MODELS = {
    "purchases": PurchaseDocument,
    "sales": SaleDocument,
    "RCV summaries": RcvSummary,
    "fee receipts": FeeReceipt,
    "F29 declarations": F29Declaration,
}


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


def company_list_annotate(*, queryset: QuerySet[Company]) -> QuerySet[Company]:
    """Add `subscription_active` in the same query, so a list never asks per row."""
    active = Company.objects.with_active_subscription().filter(pk=OuterRef("pk"))
    return queryset.annotate(subscription_active=Exists(active))


def company_document_counts(*, company: Company) -> dict[str, int]:
    """How many rows of each kind were synced for the company: one COUNT per model."""
    return {label: model.objects.filter(company=company).count() for label, model in SYNCED_MODELS.items()}
