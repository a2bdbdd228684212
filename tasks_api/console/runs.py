"""The "Task runs" admin: every run with its stored state; relaunch, revoke, terminate.

The domain shows its runs' subject (a company, say), finds runs by it and reads its results
through the hooks its catalog's task types declare (registry.ConsoleHooks; admin.subjects).
"""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action

from tasks_api import permissions
from tasks_api.console import (
    actions,
    columns,
    display,
    filters,
    launch_views,
    live,
    relaunch_failed,
    run_page,
    subjects,
)
from tasks_api.models import TaskLaunch
from tasks_api.runs.queries import task_runs
from tasks_api.states import FINISHED

if TYPE_CHECKING:
    from tasks_api.runs.queries import TaskRun

    TaskRunPage = TaskRun

# Read once the catalog is loaded (the admin module is imported before the domain's models are).
_subject_title = lazy(subjects.subject_title, str)


@admin.register(TaskLaunch)
class TaskLaunchAdmin(ModelAdmin):
    list_display = [
        "short_id", "task_type_name", "subject", "status_cell", "when", "run_time", "error_cell", "launched",
    ]  # fmt: skip
    list_filter = [
        filters.StatusFilter, filters.TaskTypeFilter, "launched_by", "created_at",
        filters.PeriodicTaskFilter, filters.ParentFilter,
    ]  # fmt: skip
    search_fields = ["task_id"]
    search_help_text = lazy(subjects.search_help, str)()
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = [actions.relaunch_selected, actions.revoke_selected, actions.terminate_selected]
    actions_detail = ["relaunch_run", "revoke_run", "terminate_run"]
    actions_list = ["launch_task", "relaunch_failed"]
    list_before_template = "admin/tasks_api/tasklaunch/list_live.html"
    change_form_outer_before_template = "admin/tasks_api/tasklaunch/run_page.html"
    fieldsets = [
        ("Run", {"fields": ["task_id", "task_type", "subject", "params_json"]}),
        ("Launch", {"fields": ["launched", "enqueue", "retries", "deliveries", "lost_deliveries"]}),
        ("Related runs", {"fields": ["parent_link", "relaunch_chain", "periodic_task_link", "raw_result"]}),
        ("Revocation", {"fields": ["revoke_requested_at", "revoked_by", "terminate_requested"]}),
    ]

    class Media:
        css = {"all": ["tasks_api/console.css"]}

    def get_queryset(self, request) -> QuerySet[TaskLaunch]:
        return self.runs()

    def runs(self) -> "QuerySet[TaskRun]":
        """The runs with their state and their subject's name (the domain's hooks)."""
        return subjects.with_subject_names(task_runs())

    def subject_label(self, run: "TaskRun") -> str:
        """The run's subject in a line of text (children tables): its name, else its id."""
        return getattr(run, "subject_name", None) or (str(run.subject_id) if run.subject_id else "")

    def result_tables(self, run: "TaskRun", result: Any) -> list[dict]:
        """A successful run's result as tables ({title, headers, rows}): the domain's, or generic."""
        if tables := subjects.result_tables(run, result):
            return tables
        rows = run_page.result_rows(result)
        return [{"title": "Result", "headers": ["", "value"], "rows": rows}] if rows else []

    def get_search_results(self, request, queryset, search_term):
        """By task id, or by the subjects the domain's search finds (a company's name or RUT)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if found := subjects.subject_ids_matching(search_term):
            results = results | queryset.filter(subject_id__in=found)
        return results, may_have_duplicates

    def changelist_view(self, request, extra_context=None):
        extra = {"has_launch_permission": self.has_launch_permission(request), **(extra_context or {})}
        response = super().changelist_view(request, extra_context=extra)
        return live.with_list_context(response, request)

    def get_urls(self):
        return live.urls(self) + launch_views.urls(self) + super().get_urls()

    def get_object(self, request, object_id, from_field=None):
        """The run with its stored result and what its page shows (one query, two for a parent)."""
        return live.run_with_page(self, request, object_id)

    def get_actions_detail(self, request, object_id):
        """Revoke and terminate only where they can still do something."""
        allowed = super().get_actions_detail(request, object_id)
        run = self.runs().filter(pk=object_id).values("status", "task_type").first()
        if run is None or (run["status"] in FINISHED and not run_page.fans_out(run["task_type"])):
            return [a for a in allowed if not a.action_name.endswith(("_revoke_run", "_terminate_run"))]
        return allowed

    def has_add_permission(self, request) -> bool:
        return False  # runs are launched (see "Launch a task"), never typed in

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail stays

    def has_launch_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(permissions.LAUNCH)

    def has_revoke_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(permissions.REVOKE)

    def has_terminate_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(permissions.TERMINATE)

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    @action(description="Relaunch", permissions=["launch"], url_path="relaunch", icon="replay")
    def relaunch_run(self, request, object_id: str):
        return actions.run_action_view(self, request, object_id, verb="Relaunch")

    @action(description="Revoke", permissions=["revoke"], url_path="revoke", icon="block")
    def revoke_run(self, request, object_id: str):
        return actions.run_action_view(self, request, object_id, verb="Revoke")

    @action(description="Terminate", permissions=["terminate"], url_path="terminate", icon="dangerous")
    def terminate_run(self, request, object_id: str):
        return actions.run_action_view(self, request, object_id, verb="Terminate")

    @action(description="Launch a task", permissions=["launch"], url_path="launch-task", icon="rocket_launch")
    def launch_task(self, request):
        return HttpResponseRedirect(reverse("admin:tasks_api_tasklaunch_launch"))

    @action(
        description="Relaunch all failed in this filter", permissions=["launch"], url_path="relaunch-failed"
    )
    def relaunch_failed(self, request):
        return relaunch_failed.relaunch_failed_view(self, request)

    @admin.display(description="run", ordering="task_id")
    def short_id(self, run: "TaskRunPage") -> str:
        return run.task_id[:8]

    @admin.display(description="task type", ordering="task_type")
    def task_type_name(self, run: "TaskRunPage") -> str:
        return format_html('<span class="run-cell-clip" title="{}">{}</span>', run.task_type, run.task_type)

    @admin.display(description=_subject_title(), ordering="subject_name")
    def subject(self, run: "TaskRunPage") -> str:
        if run.subject_id is None:
            return "—"
        return subjects.subject_link(run, self.subject_label(run))

    @admin.display(description="status", ordering="status")
    def status_cell(self, run: "TaskRunPage") -> str:
        return columns.cell(run, "status")

    @admin.display(description="when", ordering="created_at")
    def when(self, run: "TaskRunPage") -> str:
        return columns.cell(run, "when")

    @admin.display(description="duration", ordering="duration")
    def run_time(self, run: "TaskRunPage") -> str:
        return columns.cell(run, "duration")

    @admin.display(description="error")
    def error_cell(self, run: "TaskRunPage") -> str:
        return columns.cell(run, "error")

    @admin.display(description="launched by", ordering="launched_by")
    def launched(self, run: "TaskRunPage") -> str:
        return format_html('<span class="run-cell-clip">{}</span>', columns.launcher_cell(run))

    @admin.display(description="params")
    def params_json(self, run: "TaskRunPage") -> str:
        return display.pretty_json(run.params)

    @admin.display(description="enqueued")
    def enqueue(self, run: "TaskRunPage") -> str:
        if run.enqueued is False:
            return f"No: {run.enqueue_error}"
        return {True: "Yes", None: "Not yet (publishing after commit)"}[run.enqueued]

    @admin.display(description="fan-out parent")
    def parent_link(self, run: "TaskRunPage") -> str:
        return display.run_link(run.parent_id, f"{run.parent_id} (parent)") if run.parent_id else "—"

    @admin.display(description="relaunches")
    def relaunch_chain(self, run: "TaskRunPage") -> str:
        before = (
            display.run_link(run.relaunch_of_id, f"relaunch of {run.relaunch_of_id}")
            if run.relaunch_of_id
            else ""
        )
        after = display.run_links(list(run.relaunches.values_list("task_id", flat=True)))
        if not before and not after:
            return "—"
        return format_html("{} {}", before, format_html("relaunched as {}", after) if after else "")

    @admin.display(description="periodic task")
    def periodic_task_link(self, run: "TaskRunPage") -> str:
        from django_celery_beat.models import PeriodicTask

        task = (
            PeriodicTask.objects.filter(name=run.periodic_task_name).first()
            if run.periodic_task_name
            else None
        )
        if task is None:
            return run.periodic_task_name or "—"
        return display.admin_link("admin:django_celery_beat_periodictask_change", task.pk, task.name)

    @admin.display(description="stored result")
    def raw_result(self, run: "TaskRunPage") -> str:
        from django_celery_results.models import TaskResult

        stored = TaskResult.objects.filter(task_id=run.task_id).values_list("pk", flat=True).first()
        if stored is None:
            return "—"
        url = reverse("admin:django_celery_results_taskresult_change", args=[stored])
        return format_html('<a href="{}">raw TaskResult row</a>', url)
