"""Shared admin pieces: RUT search in any spelling, peso amounts, the raw SII row."""

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.utils.html import format_html

from sii import rut, selectors


class RutSearchMixin:
    """Also match a RUT column when the search term is a RUT: '76.086.428-5', '76086428' ..."""

    rut_search_field = "rut_body"
    extra_rut_search_fields: tuple[str, ...] = ()  # more RUT columns a RUT term also matches

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        search = super().get_search_results  # type: ignore[misc]  # provided by the ModelAdmin
        results, may_have_duplicates = search(request, queryset, search_term)
        if bodies := selectors.rut_bodies_matching(search_term):
            for name in (self.rut_search_field, *self.extra_rut_search_fields):
                results |= queryset.filter(**{f"{name}__in": bodies})
        return results, may_have_duplicates


def pesos(value: int | None) -> str:
    """Chilean display of an amount: 1.234.567."""
    return "—" if value is None else f"{value:,}".replace(",", ".")


def amount_column(field: str, label: str, *, ordering: str | None = None):
    """A ModelAdmin method showing a peso amount (a field or property) with dots, sortable by
    that field, or by `ordering` (an annotation) when it is a property."""

    @admin.display(description=label, ordering=ordering or field)
    def column(modeladmin, row) -> str:
        return pesos(getattr(row, field))

    return column


def rut_column(body_field: str, dv_field: str, label: str):
    """A ModelAdmin method showing a RUT stored as body + check digit, formatted."""

    @admin.display(description=label, ordering=body_field)
    def column(modeladmin, row) -> str:
        return rut.Rut(body=getattr(row, body_field), dv=getattr(row, dv_field)).formatted

    return column


@admin.display(description="Raw SII row")
def raw_row(modeladmin, row) -> str:
    return format_html("<pre>{}</pre>", json.dumps(row.raw, indent=2, ensure_ascii=False))
