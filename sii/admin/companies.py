"""Companies in the admin: RUT in any spelling, a write-only SII password, the clave's state,
the syncs' runs, the data's freshness, and sync actions on the list and on the company's page."""

from django.contrib import admin
from django.db.models import QuerySet
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from sii import selectors
from sii.admin import company_pages
from sii.admin.columns import RutSearchMixin, once_per_object, run_state
from sii.admin.freshness import FreshnessFilter, company_freshness_html
from sii.admin.launches import companies_sync, company_sync_dialog, company_sync_from_page
from sii.admin.pickers import CompanyAutocompleteView
from sii.forms import CompanyAdminForm
from sii.models import Company, Subscription
from tasks_api import console

# The syncs' runs (from the launch records), each surface's freshness, then what the model keeps:
# the last successful sync times (local time, "-" when never) and the rows synced.
SYNC_FIELDS = (
    "last_syncs", "last_failure", "data_freshness", "last_documents_sync_at", "last_f29_sync_at",
    "synced_documents",
)  # fmt: skip


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


class LastSyncFailedFilter(admin.SimpleListFilter):
    title = "last sync"
    parameter_name = "last_sync"

    def lookups(self, request, model_admin):
        return [("failed", "Failed")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "failed":
            return queryset.filter(pk__in=[company_id for _, company_id in selectors.failed_last_syncs()])
        return queryset


@admin.register(Company)
class CompanyAdmin(RutSearchMixin, ModelAdmin):
    form = CompanyAdminForm
    list_display = ("name", "rut", "sii_credentials", "subscription_active", "documents_sync", "f29_sync")
    list_filter = (ActiveSubscriptionFilter, RejectedClaveFilter, LastSyncFailedFilter, FreshnessFilter)
    list_per_page = 50  # each row shows two run states: a page renders in well under a second
    search_fields = ("name",)
    search_help_text = "Name or RUT (76.086.428-5, 76086428-5 or 76086428)"
    readonly_fields = ("sii_credentials", "recent_runs", *SYNC_FIELDS)
    inlines = (SubscriptionInline,)
    actions = ("sync_documents_now", "sync_f29_now")
    actions_detail = ("sync_documents_on_page", "sync_f29_on_page")

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # a new company: no stored password, nothing synced yet
            return [(None, {"fields": ("name", "rut", "sii_password")})]
        password = ("sii_password",) if self.has_change_permission(request, obj) else ()
        # The credentials' state (a rejected clave) right above the field that fixes it.
        company = ("name", "rut", "sii_credentials", *password)
        return [
            (None, {"fields": company}),
            ("Syncs", {"fields": SYNC_FIELDS}),
            ("Recent runs", {"fields": ("recent_runs",)}),
        ]

    def get_urls(self):
        pick = CompanyAutocompleteView.as_view(admin_site=self.admin_site)
        return [path("pick/", self.admin_site.admin_view(pick), name="sii_company_pick"), *super().get_urls()]

    def save_model(self, request, obj: Company, form: CompanyAdminForm, change: bool) -> None:
        # Syncs update the lock, the sync times and the clave's state while this page is open;
        # writing the whole row would put back what the form read (a lock freed, a rejection undone).
        obj.save(update_fields=form.columns_to_save() if change else None)

    def get_queryset(self, request) -> QuerySet:
        return selectors.company_list_annotate(queryset=super().get_queryset(request))

    def has_launch_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(console.LAUNCH)

    # In the list and on view-only pages; editable pages show the form's "rut" field instead.
    @admin.display(description="RUT", ordering="rut_body")
    def rut(self, company: Company) -> str:
        return format_html('<span class="whitespace-nowrap">{}</span>', company.rut_formatted)

    @admin.display(description="SII credentials")
    def sii_credentials(self, company: Company) -> SafeString:
        return company_pages.credentials_html(company)

    @admin.display(description="Active subscription", boolean=True, ordering="subscription_active")
    def subscription_active(self, company: "selectors.ListedCompany") -> bool:
        return company.subscription_active

    @admin.display(description="Documents sync", ordering="last_documents_at")
    def documents_sync(self, company: "selectors.ListedCompany") -> SafeString:
        return run_state(
            company.last_documents_status, company.last_documents_at, company.last_documents_task_id
        )

    @admin.display(description="F29 sync", ordering="last_f29_at")
    def f29_sync(self, company: "selectors.ListedCompany") -> SafeString:
        return run_state(company.last_f29_status, company.last_f29_at, company.last_f29_task_id)

    @admin.display(description="Last sync runs")
    @once_per_object
    def last_syncs(self, company: Company) -> SafeString:
        return company_pages.last_syncs_html(company)

    @admin.display(description="Last error")
    @once_per_object
    def last_failure(self, company: Company) -> SafeString:
        return company_pages.last_failure_html(company)

    @admin.display(description="Data freshness")
    @once_per_object
    def data_freshness(self, company: Company) -> SafeString:
        return company_freshness_html(company)

    @admin.display(description="Last 10 runs")
    @once_per_object
    def recent_runs(self, company: Company) -> SafeString:
        return company_pages.recent_runs_html(company)

    @admin.display(description="Synced rows")
    @once_per_object
    def synced_documents(self, company: Company) -> str:
        counts = selectors.company_document_counts(company=company)
        return format_html_join("", "<div>{}: {}</div>", counts.items())

    @admin.action(description="Sync documents now", permissions=["launch"])
    def sync_documents_now(self, request, queryset: QuerySet) -> None:
        companies_sync(self, request, queryset, task_type="sii.sync_documents")

    @admin.action(description="Sync F29 now", permissions=["launch"])
    def sync_f29_now(self, request, queryset: QuerySet) -> None:
        companies_sync(self, request, queryset, task_type="sii.sync_f29")

    @action(
        description="Sync documents now", permissions=["launch"], url_path="sync-documents", icon="sync",
        dialog=company_sync_dialog("sii.sync_documents"),
    )  # fmt: skip
    def sync_documents_on_page(self, request, form, object_id: str):
        return company_sync_from_page(self, request, object_id, task_type="sii.sync_documents")

    @action(
        description="Sync F29 now", permissions=["launch"], url_path="sync-f29", icon="sync",
        dialog=company_sync_dialog("sii.sync_f29"),
    )  # fmt: skip
    def sync_f29_on_page(self, request, form, object_id: str):
        return company_sync_from_page(self, request, object_id, task_type="sii.sync_f29")
