"""django-celery-beat's PeriodicTask admin with "Run now" through our launch path and run links."""

import json

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django_celery_beat import admin as beat_admin
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm, TaskSelectWidget
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from tasks_api import permissions
from tasks_api.console import display
from tasks_api.registry import UnknownTaskType
from tasks_api.services.catalog import FanOutAlreadyRunning, InvalidParams, task_launch_validated
from tasks_api.services.launches import TaskLaunchFailed

for model in (PeriodicTask, ClockedSchedule, CrontabSchedule, SolarSchedule, IntervalSchedule):
    admin.site.unregister(model)


class ThemedTaskSelectWidget(UnfoldAdminSelectWidget, TaskSelectWidget):
    pass


class ThemedPeriodicTaskForm(PeriodicTaskForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["task"].widget = UnfoldAdminTextInputWidget()
        self.fields["regtask"].widget = ThemedTaskSelectWidget()


@admin.register(ClockedSchedule)
class ThemedClockedScheduleAdmin(beat_admin.ClockedScheduleAdmin, ModelAdmin):
    pass


@admin.register(CrontabSchedule)
class ThemedCrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin, ModelAdmin):
    pass


@admin.register(SolarSchedule)
class ThemedSolarScheduleAdmin(beat_admin.SolarScheduleAdmin, ModelAdmin):
    pass


@admin.register(IntervalSchedule)
class ThemedIntervalScheduleAdmin(beat_admin.IntervalScheduleAdmin, ModelAdmin):
    pass


@admin.register(PeriodicTask)
class RecordedPeriodicTaskAdmin(PeriodicTaskAdmin, ModelAdmin):
    form = ThemedPeriodicTaskForm
    # Beat's own "Run selected tasks" bypasses the launch records and hides the task ids.
    actions = [action for action in PeriodicTaskAdmin.actions if action != "run_tasks"] + ["run_now"]
    list_display = [*PeriodicTaskAdmin.list_display, "recent_runs"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "recent_runs"]

    def has_launch_permission(self, request) -> bool:
        return request.user.has_perm(permissions.LAUNCH)

    @admin.action(description="Run selected tasks now (recorded as task runs)", permissions=["launch"])
    def run_now(self, request, queryset):
        launched = []
        for periodic_task in queryset:
            if task_id := _run(request, periodic_task):
                launched.append(task_id)
        if launched:
            self.message_user(
                request, format_html("Launched {}", display.run_links(launched)), messages.SUCCESS
            )

    @admin.display(description="runs")
    def recent_runs(self, periodic_task: PeriodicTask) -> str:
        url = reverse("admin:tasks_api_tasklaunch_changelist")
        return format_html('<a href="{}?periodic_task_name={}">recent runs</a>', url, periodic_task.name)


def _run(request, periodic_task: PeriodicTask) -> str | None:
    try:
        launch = task_launch_validated(
            task_type=periodic_task.task,
            data=json.loads(periodic_task.kwargs or "{}"),
            user=request.user,
            periodic_task_name=periodic_task.name,
        )
    except UnknownTaskType:
        messages.warning(
            request, f"{periodic_task.name}: {periodic_task.task} is not a launchable catalog task."
        )
        return None
    except FanOutAlreadyRunning as exc:
        messages.warning(request, f"{periodic_task.name}: {exc}")
        return None
    except InvalidParams as exc:
        messages.error(request, f"{periodic_task.name}: invalid kwargs: {exc}")
        return None
    except TaskLaunchFailed as exc:
        messages.error(request, f"{periodic_task.name}: {exc}")
        return None
    return launch.task_id
