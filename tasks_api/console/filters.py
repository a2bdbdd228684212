"""The runs list's filters: status (as the API reports it), task type, periodic task."""

from django.contrib import admin

from tasks_api.models import TaskLaunch
from tasks_api.registry import catalog
from tasks_api.states import STATUSES


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


class ParentFilter(admin.SimpleListFilter):
    """A fan-out parent's children (linked from the parent's page); no choices of its own."""

    title = "fan-out parent"
    parameter_name = "parent"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, f"children of {value[:8]}")] if value else []

    def has_output(self) -> bool:
        return bool(self.value())

    def queryset(self, request, queryset):
        return queryset.filter(parent_id=self.value()) if self.value() else queryset
