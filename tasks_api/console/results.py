"""django-celery-results' TaskResult admin, kept for raw inspection, linked to the launch record."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django_celery_results.admin import GroupResultAdmin, TaskResultAdmin
from django_celery_results.models import GroupResult, TaskResult
from unfold.admin import ModelAdmin

from tasks_api.console import display
from tasks_api.models import TaskLaunch

admin.site.unregister(TaskResult)
admin.site.unregister(GroupResult)


@admin.register(GroupResult)
class ThemedGroupResultAdmin(GroupResultAdmin, ModelAdmin):
    pass


@admin.register(TaskResult)
class LinkedTaskResultAdmin(TaskResultAdmin, ModelAdmin):
    list_display = [*TaskResultAdmin.list_display, "launch_record"]

    def get_queryset(self, request):
        launched = TaskLaunch.objects.filter(task_id=OuterRef("task_id"))
        return super().get_queryset(request).annotate(has_launch=Exists(launched))

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "launch_record"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return [(None, {"fields": ["launch_record"]}), *fieldsets]

    @admin.display(description="launch record", boolean=False)
    def launch_record(self, result: TaskResult) -> str:
        has_launch = getattr(result, "has_launch", None)
        if has_launch is None:
            has_launch = TaskLaunch.objects.filter(task_id=result.task_id).exists()
        return display.run_link(result.task_id, "task run") if has_launch else "—"
