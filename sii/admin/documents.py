"""The synced SII rows in the admin: read-only lists an accountant can filter, and the raw row."""

from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import QuerySet
from unfold.admin import ModelAdmin

from sii.admin.columns import RutSearchMixin, amount_column, raw_row, rut_column
from sii.models import F29Declaration, FeeReceipt, PurchaseDocument, RcvSummary, SaleDocument, signed_amount
from sii.rut import Rut

COMPANY_FILTER = ("company", admin.RelatedOnlyFieldListFilter)
RCV_AMOUNTS = ("exento", "neto", "iva", "total")


class SyncedRowAdmin(RutSearchMixin, ModelAdmin):
    """Rows are what the SII said: browse them, never edit them here (the next sync would undo it)."""

    list_filter: ClassVar[tuple[Any, ...]] = ("period", COMPANY_FILTER)
    list_select_related = ("company",)
    list_per_page = 50
    exclude = ("raw",)
    readonly_fields = ("raw_row",)
    raw_row = raw_row

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RcvAmountsAdmin(SyncedRowAdmin):
    """The four RCV amounts, shown as Chilean pesos (1.190.000)."""

    exento = amount_column("monto_exento", "Exento")
    neto = amount_column("monto_neto", "Neto")
    iva = amount_column("monto_iva", "IVA")
    total = amount_column("monto_total", "Total")


class RcvDocumentAdmin(RcvAmountsAdmin):
    """Purchases or sales; "Signed total" is what the row adds to the period (credit notes subtract)."""

    rut_search_field = "counterparty_rut"
    search_fields = ("=folio", "counterparty_name")
    search_help_text = "Folio, counterparty RUT (any spelling) or name"
    date_hierarchy = "issued_on"
    ordering = ("-period", "tipo_doc", "folio")
    counterparty = rut_column("counterparty_rut", "counterparty_dv", "Counterparty RUT")
    signed_total = amount_column("signed_total", "Signed total", ordering="signed_total_sql")

    def get_queryset(self, request) -> QuerySet:
        # Sorting on the column needs the signed total in SQL, not the model property.
        return super().get_queryset(request).annotate(signed_total_sql=signed_amount("monto_total"))


@admin.register(PurchaseDocument)
class PurchaseDocumentAdmin(RcvDocumentAdmin):
    list_display = (
        "period",
        "tipo_doc",
        "folio",
        "counterparty",
        "counterparty_name",
        "issued_on",
        *RCV_AMOUNTS,
        "signed_total",
        "estado_contable",
        "company",
    )
    list_filter = ("period", "estado_contable", "tipo_doc", COMPANY_FILTER)


@admin.register(SaleDocument)
class SaleDocumentAdmin(RcvDocumentAdmin):
    list_display = (
        "period",
        "tipo_doc",
        "folio",
        "counterparty",
        "counterparty_name",
        "issued_on",
        *RCV_AMOUNTS,
        "signed_total",
        "company",
    )
    list_filter = ("period", "tipo_doc", COMPANY_FILTER)


@admin.register(RcvSummary)
class RcvSummaryAdmin(RcvAmountsAdmin):
    list_display = (
        "period",
        "operacion",
        "estado_contable",
        "tipo_doc",
        "total_documentos",
        *RCV_AMOUNTS,
        "company",
    )
    list_filter = ("period", "operacion", "tipo_doc", COMPANY_FILTER)
    search_fields = ("=tipo_doc", "company__name")
    ordering = ("-period", "operacion", "tipo_doc")


@admin.register(FeeReceipt)
class FeeReceiptAdmin(SyncedRowAdmin):
    list_display = (
        "period",
        "direction",
        "numero",
        "issuer",
        "issuer_name",
        "receptor",
        "receptor_name",
        "issued_on",
        "bruto",
        "retencion_display",
        "retencion_emisor_display",
        "liquido",
        "anulada",
        "company",
    )
    list_filter = ("period", "direction", "anulada", COMPANY_FILTER)
    rut_search_field = "issuer_rut"
    extra_rut_search_fields = ("receptor_rut",)
    search_fields = ("=numero", "issuer_name", "receptor_name")
    search_help_text = "Número, issuer or receptor RUT (any spelling) or name"
    date_hierarchy = "issued_on"
    ordering = ("-period", "issuer_rut", "numero")
    issuer = rut_column("issuer_rut", "issuer_dv", "Issuer RUT")
    bruto = amount_column("monto_bruto", "Bruto")
    retencion_display = amount_column("retencion", "Retención receptor")
    retencion_emisor_display = amount_column("retencion_emisor", "Retención emisor")
    liquido = amount_column("monto_liquido", "Líquido")

    @admin.display(description="Receptor RUT", ordering="receptor_rut")
    def receptor(self, row: FeeReceipt) -> str:
        # Only an issued boleta names its receptor; a received one's receptor is the company.
        if row.receptor_rut is None:
            return "—"
        return Rut(body=row.receptor_rut, dv=row.receptor_dv).formatted


@admin.register(F29Declaration)
class F29DeclarationAdmin(SyncedRowAdmin):
    list_display = ("period", "folio", "estado", "filed_on", "a_pagar", "company")
    list_filter = ("period", "estado", COMPANY_FILTER)
    search_fields = ("=folio", "estado")
    date_hierarchy = "filed_on"
    ordering = ("-period", "-folio")
    a_pagar = amount_column("total_a_pagar", "Total a pagar")
