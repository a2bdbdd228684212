"""The generic "Task runs" admin: every launch joined with its result; relaunch, revoke, terminate.

A domain app may re-register TaskLaunch with a subclass that names the runs' subject (a
company, say): override `runs`, `subject`, `subject_label` and `launch_form_field`.
"""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from rest_framework import fields as drf_fields
from unfold.admin import ModelAdmin

from tasks_api import permissions
from tasks_api.admin import actions, display, launch_views
from tasks_api.models import TaskLaunch
from tasks_api.registry import catalog
from tasks_api.selectors.runs import RunAnnotations, task_runs
from tasks_api.selectors.status import task_status_get
from tasks_api.states import STATUSES


class RunPageAnnotations(RunAnnotations):
    api_status: dict[str, Any]  # the API's answer, on the detail page (see get_object)


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from tasks_api.selectors.runs import TaskRun

    TaskRunPage = WithAnnotations[TaskLaunch, RunPageAnnotations]


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(status, status) for status in STATUSES]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class TaskTypeFilter(admin.SimpleListFilter):
    title = "task type"
    parameter_name = "task_type"

    def lookups(self, request, model_admin):
        return [(name, name) for name in catalog()]

    def queryset(self, request, queryset):
        return queryset.filter(task_type=self.value()) if self.value() else queryset


class PeriodicTaskFilter(admin.SimpleListFilter):
    title = "periodic task"
    parameter_name = "periodic_task_name"

    def lookups(self, request, model_admin):
        names = TaskLaunch.objects.exclude(periodic_task_name="").values_list("periodic_task_name", flat=True)
        return [(name, name) for name in sorted(set(names))]

    def queryset(self, request, queryset):
        return queryset.filter(periodic_task_name=self.value()) if self.value() else queryset


@admin.register(TaskLaunch)
class TaskLaunchAdmin(ModelAdmin):
    list_display = [
        "short_id", "task_type", "subject", "status_badge", "launched", "created_at",
        "started", "finished", "run_time", "retries",
    ]  # fmt: skip
    list_filter = [StatusFilter, TaskTypeFilter, "launched_by", "created_at", PeriodicTaskFilter]
    search_fields = ["task_id"]
    search_help_text = "Task id."
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = [actions.relaunch_selected, actions.revoke_selected, actions.terminate_selected]
    change_list_template = "admin/tasks_api/tasklaunch/change_list.html"
    fieldsets = [
        (None, {"fields": ["task_id", "task_type", "status_badge", "error", "subject", "params_json"]}),
        ("Result", {"fields": ["result_json", "meta_json", "traceback_text"]}),
        (
            "Launch",
            {"fields": ["launched", "created_at", "started", "finished", "run_time", "retries", "enqueue"]},
        ),
        (
            "Related runs",
            {
                "fields": [
                    "parent_link",
                    "children_table",
                    "relaunch_chain",
                    "periodic_task_link",
                    "raw_result",
                ]
            },
        ),
        ("Revocation", {"fields": ["revoke_requested_at", "revoked_by", "terminate_requested"]}),
    ]

    def get_queryset(self, request) -> QuerySet[TaskLaunch]:
        return self.runs()

    def runs(self) -> "QuerySet[TaskRun]":
        """The runs with their state; a domain admin annotates what it shows of the subject."""
        return task_runs()

    def subject_label(self, run: "TaskRun") -> str:
        """The run's subject in a line of text (children tables)."""
        return str(run.subject_id) if run.subject_id else ""

    def launch_form_field(self, name: str, field: drf_fields.Field) -> forms.Field | None:
        """A domain's own input for a catalog parameter (a picker, say); None for a text box."""
        return None

    def changelist_view(self, request, extra_context=None):
        extra = {"has_launch_permission": self.has_launch_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def get_urls(self):
        return launch_views.urls(self) + super().get_urls()

    def has_add_permission(self, request) -> bool:
        return False  # runs are launched (see "Launch a task"), never typed in

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail stays

    def has_launch_permission(self, request) -> bool:
        return request.user.has_perm(permissions.LAUNCH)

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm(permissions.REVOKE)

    def has_terminate_permission(self, request) -> bool:
        return request.user.has_perm(permissions.TERMINATE)

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def get_object(self, request, object_id, from_field=None):
        launch = super().get_object(request, object_id, from_field)
        if launch is not None:
            launch.api_status = task_status_get(task_id=launch.task_id)
        return launch

    @admin.display(description="task id", ordering="task_id")
    def short_id(self, run: "TaskRunPage") -> str:
        return run.task_id[:8]

    @admin.display(description="subject", ordering="subject_id")
    def subject(self, run: "TaskRunPage") -> str:
        return self.subject_label(run) or "—"

    @admin.display(description="status", ordering="status")
    def status_badge(self, run: "TaskRunPage") -> str:
        return display.status_badge(run.status)

    @admin.display(description="launched by", ordering="launched_by")
    def launched(self, run: "TaskRunPage") -> str:
        who = run.user or run.periodic_task_name or (run.parent_id and f"parent {run.parent_id[:8]}") or ""
        return f"{run.get_launched_by_display()}: {who}" if who else run.get_launched_by_display()

    @admin.display(description="started", ordering="started_at")
    def started(self, run: "TaskRunPage") -> str:
        return _local(run.started_at)

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, run: "TaskRunPage") -> str:
        return _local(run.finished_at)

    @admin.display(description="duration", ordering="duration")
    def run_time(self, run: "TaskRunPage") -> str:
        return str(run.duration).split(".")[0] if run.duration else "—"

    @admin.display(description="error")
    def error(self, run: "TaskRunPage") -> str:
        return run.api_status["error"] or "—"

    @admin.display(description="params")
    def params_json(self, run: "TaskRunPage") -> str:
        return display.pretty_json(run.params)

    @admin.display(description="result")
    def result_json(self, run: "TaskRunPage") -> str:
        return display.pretty_json(run.api_status["result"])

    @admin.display(description="meta")
    def meta_json(self, run: "TaskRunPage") -> str:
        return display.pretty_json(run.api_status["meta"])

    @admin.display(description="traceback")
    def traceback_text(self, run: "TaskRunPage") -> str:
        return display.preformatted(run.api_status["traceback"])

    @admin.display(description="enqueued")
    def enqueue(self, run: "TaskRunPage") -> str:
        if run.enqueued is False:
            return f"No: {run.enqueue_error}"
        return {True: "Yes", None: "Not yet (publishing after commit)"}[run.enqueued]

    @admin.display(description="fan-out parent")
    def parent_link(self, run: "TaskRunPage") -> str:
        return display.run_link(run.parent_id, f"{run.parent_id} (parent)") if run.parent_id else "—"

    @admin.display(description="children")
    def children_table(self, run: "TaskRunPage") -> str:
        children = self.runs().filter(parent_id=run.task_id).order_by("created_at")
        if not children.exists():
            return "—"
        rows = (
            (display.run_link(c.task_id), self.subject_label(c), display.status_badge(c.status))
            for c in children[:200]
        )
        table = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        more = children.count() - 200
        return format_html("<table>{}</table>{}", table, f"… and {more} more" if more > 0 else "")

    @admin.display(description="relaunches")
    def relaunch_chain(self, run: "TaskRunPage") -> str:
        before = (
            display.run_link(run.relaunch_of_id, f"relaunch of {run.relaunch_of_id}")
            if run.relaunch_of_id
            else ""
        )
        after = display.run_links(list(run.relaunches.values_list("task_id", flat=True)))
        return (
            format_html("{} {}", before, format_html("relaunched as {}", after) if after else "")
            if before or after
            else "—"
        )

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


def _local(moment) -> str:
    """Annotated datetimes skip the admin's own formatting: show them in local time like the rest."""
    return formats.localize(timezone.localtime(moment)) if moment else "—"
