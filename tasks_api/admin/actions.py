"""Admin actions on task runs, each behind a confirmation page that lists what will happen."""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils.html import format_html

from tasks_api.admin import display
from tasks_api.registry import catalog
from tasks_api.services.catalog import FanOutAlreadyRunning, task_relaunch_checked
from tasks_api.services.launches import TaskLaunchFailed
from tasks_api.services.revocations import TaskAlreadyFinished, task_revoke
from tasks_api.states import FINISHED, RUNNING


@admin.action(description="Relaunch selected runs (same type and params)", permissions=["launch"])
def relaunch_selected(modeladmin, request, queryset: QuerySet):
    runs = list(queryset)
    if not _confirmed(request):
        plan = [(run, f"new {run.task_type} run with params {json.dumps(run.params)}") for run in runs]
        return _confirmation(modeladmin, request, runs, plan, "relaunch_selected", "Relaunch")
    launched, failures = [], []
    for run in runs:
        try:
            launched.append(task_relaunch_checked(launch=run, user=request.user).task_id)
        except (TaskLaunchFailed, FanOutAlreadyRunning) as exc:
            failures.append(f"{run.task_id}: {exc}")
    _report(modeladmin, request, "Relaunched as", launched, failures)
    return None


@admin.action(description="Revoke selected runs", permissions=["revoke"])
def revoke_selected(modeladmin, request, queryset: QuerySet):
    return _revoke(modeladmin, request, queryset, terminate=False)


@admin.action(description="Terminate selected runs (kill them if running)", permissions=["terminate"])
def terminate_selected(modeladmin, request, queryset: QuerySet):
    return _revoke(modeladmin, request, queryset, terminate=True)


def _revoke(modeladmin, request, queryset: QuerySet, *, terminate: bool):
    runs = list(queryset)
    action = "terminate_selected" if terminate else "revoke_selected"
    if not _confirmed(request):
        plan = [(run, _revoke_plan(run, terminate)) for run in runs]
        return _confirmation(modeladmin, request, runs, plan, action, "Terminate" if terminate else "Revoke")
    revoked, skipped = [], []
    for run in runs:
        try:
            revoked += task_revoke(task_id=run.task_id, terminate=terminate, user=request.user)
        except TaskAlreadyFinished:
            skipped.append(f"{run.task_id} had already finished ({run.status}); its result is kept")
    _report(modeladmin, request, "Terminated" if terminate else "Revoked", revoked, skipped)
    return None


def _revoke_plan(run, terminate: bool) -> str:
    task_type = catalog().get(run.task_type)
    if run.status in FINISHED and task_type and task_type.fans_out:
        return f"finished ({run.status}): its unfinished children will be revoked, its result kept"
    if run.status in FINISHED:
        return f"finished ({run.status}): left as it is"
    if run.status in RUNNING:
        return "running: will be killed now" if terminate else "running: will stop before its next step"
    return "waiting: will never run"


def _confirmed(request) -> bool:
    return request.POST.get("post") == "yes"


def _confirmation(modeladmin, request, runs, plan, action: str, verb: str) -> TemplateResponse:
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"{verb} {len(runs)} task run(s)?",
        "verb": verb,
        "plan": [
            (display.run_link(run.task_id), run.task_type, display.status_badge(run.status), what)
            for run, what in plan
        ],
        "runs": runs,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/tasks_api/tasklaunch/confirm_action.html", context)


def _report(modeladmin, request, verb: str, task_ids: list[str], problems: list[str]) -> None:
    if task_ids:
        modeladmin.message_user(
            request, format_html("{} {}", verb, display.run_links(task_ids)), messages.SUCCESS
        )
    for problem in problems:
        modeladmin.message_user(request, problem, messages.WARNING)
