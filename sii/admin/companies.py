"""Companies in the admin: RUT in any spelling, a write-only SII password, sync actions."""

from django.contrib import admin
from django.db.models import QuerySet
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin, TabularInline

from sii import selectors
from sii.admin.columns import RutSearchMixin
from sii.admin.launches import companies_sync
from sii.forms import CompanyAdminForm
from sii.models import Company, Subscription
from sii.services.credentials import clave_rejected_at_text
from tasks_api import permissions

# The detail shows the model fields: formatted in local time, "-" when never synced.
SYNC_FIELDS = ("last_documents_sync_at", "last_f29_sync_at", "synced_documents")


class SubscriptionInline(TabularInline):
    model = Subscription
    fields = ("status", "starts_on", "ends_on", "created_at")
    readonly_fields = ("created_at",)
    extra = 0


class ActiveSubscriptionFilter(admin.SimpleListFilter):
    title = "active subscription"
    parameter_name = "subscription_active"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(subscription_active=self.value() == "yes")
        return queryset


class RejectedClaveFilter(admin.SimpleListFilter):
    title = "clave rejected by the SII"
    parameter_name = "clave_rejected"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(sii_password_rejected_at__isnull=self.value() == "no")
        return queryset


@admin.register(Company)
class CompanyAdmin(RutSearchMixin, ModelAdmin):
    form = CompanyAdminForm
    list_display = (
        "name",
        "rut",
        "sii_credentials",
        "subscription_active",
        "last_documents_sync",
        "last_f29_sync",
    )
    list_filter = (ActiveSubscriptionFilter, RejectedClaveFilter)
    search_fields = ("name",)
    search_help_text = "Name or RUT (76.086.428-5, 76086428-5 or 76086428)"
    readonly_fields = ("sii_credentials", *SYNC_FIELDS)
    inlines = (SubscriptionInline,)
    actions = ("sync_documents_now", "sync_f29_now")

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # a new company: no stored password, nothing synced yet
            return [(None, {"fields": ("name", "rut", "sii_password")})]
        password = ("sii_password",) if self.has_change_permission(request, obj) else ()
        # The credentials' state (a rejected clave) right above the field that fixes it.
        company = ("name", "rut", "sii_credentials", *password)
        return [(None, {"fields": company}), ("Sync", {"fields": SYNC_FIELDS})]

    def save_model(self, request, obj: Company, form: CompanyAdminForm, change: bool) -> None:
        # Syncs update the lock, the sync times and a rejected clave while this page is open;
        # writing the whole row would put back what the form read (a lock freed, a rejection undone).
        obj.save(update_fields=form.columns_to_save() if change else None)

    def get_queryset(self, request) -> QuerySet:
        return selectors.company_list_annotate(queryset=super().get_queryset(request))

    def has_launch_permission(self, request) -> bool:
        return request.user.has_perm(permissions.LAUNCH)

    # In the list and on view-only pages; editable pages show the form's "rut" field instead.
    @admin.display(description="RUT", ordering="rut_body")
    def rut(self, company: Company) -> str:
        return company.rut_formatted

    @admin.display(description="SII credentials")
    def sii_credentials(self, company: Company) -> SafeString:
        if company.sii_password_rejected_at is None:
            return _icon(company.has_sii_credentials)
        when = clave_rejected_at_text(company.sii_password_rejected_at)
        return format_html("{} Rejected by the SII on {}", _icon(False), when)

    @admin.display(description="Active subscription", boolean=True, ordering="subscription_active")
    def subscription_active(self, company: "selectors.ListedCompany") -> bool:
        return company.subscription_active

    @admin.display(description="Last documents sync", ordering="last_documents_sync_at")
    def last_documents_sync(self, company: Company):
        return company.last_documents_sync_at

    @admin.display(description="Last F29 sync", ordering="last_f29_sync_at")
    def last_f29_sync(self, company: Company):
        return company.last_f29_sync_at

    @admin.display(description="Synced rows")
    def synced_documents(self, company: Company) -> str:
        counts = selectors.company_document_counts(company=company)
        return format_html_join("", "<div>{}: {}</div>", counts.items())

    @admin.action(description="Sync documents now", permissions=["launch"])
    def sync_documents_now(self, request, queryset: QuerySet) -> None:
        companies_sync(self, request, queryset, task_type="sii.sync_documents")

    @admin.action(description="Sync F29 now", permissions=["launch"])
    def sync_f29_now(self, request, queryset: QuerySet) -> None:
        companies_sync(self, request, queryset, task_type="sii.sync_f29")


def _icon(value: bool) -> SafeString:
    """The admin's own yes/no icon, as boolean columns show it."""
    name = "yes" if value else "no"
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{name}.svg"), value)
