"""Task runs as the sii app shows them: each run's company, found by name or RUT in any spelling."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from rest_framework import fields as drf_fields

from sii import selectors
from sii.admin.pickers import CompanyIdField
from sii.admin.sync_results import sync_result_tables
from sii.catalog import SUBJECT
from sii.models import Company
from tasks_api.admin import display
from tasks_api.admin.launch_views import parameter_help
from tasks_api.admin.runs import TaskLaunchAdmin
from tasks_api.models import TaskLaunch

if TYPE_CHECKING:
    from tasks_api.admin.runs import TaskRunPage
    from tasks_api.selectors.runs import TaskRun

admin.site.unregister(TaskLaunch)


@admin.register(TaskLaunch)
class CompanyTaskLaunchAdmin(TaskLaunchAdmin):
    search_help_text = "Task id, or a company's name or RUT."

    def runs(self) -> "QuerySet[TaskRun]":
        company = Company.objects.filter(pk=OuterRef("subject_id"))
        return super().runs().annotate(company_name=Subquery(company.values("name")[:1]))

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if companies := selectors.company_ids_matching(search_term):
            results = results | queryset.filter(subject_id__in=companies)
        return results, may_have_duplicates

    @admin.display(description="company", ordering="company_name")
    def subject(self, run: "TaskRunPage") -> str:
        if run.subject_id is None:
            return "—"
        return display.admin_link("admin:sii_company_change", run.subject_id, self.subject_label(run))

    def subject_label(self, run: "TaskRun") -> str:
        return getattr(run, "company_name", None) or super().subject_label(run)

    def result_tables(self, run: "TaskRun", result: Any) -> list[dict]:
        return sync_result_tables(result) or super().result_tables(run, result)

    def launch_form_field(self, name: str, field: drf_fields.Field) -> forms.Field | None:
        if name != SUBJECT:
            return None
        # An autocomplete over the Company admin's search (name, RUT in any spelling): the page
        # never lists every company; the value stays the UUID text the API validates.
        return CompanyIdField(
            admin_site=self.admin_site, label="Company", required=False, help_text=parameter_help(field)
        )
