"""Relaunch, revoke and terminate: list actions on selected runs and buttons on a run's page,
each behind a confirmation page that lists what will happen to each run."""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from tasks_api.console import display
from tasks_api.registry import catalog
from tasks_api.services.catalog import FanOutAlreadyRunning, task_relaunch_checked
from tasks_api.services.launches import TaskLaunchFailed
from tasks_api.services.revocations import TaskAlreadyFinished, task_revoke
from tasks_api.states import FINISHED, RUNNING


@admin.action(description="Relaunch selected runs (same type and params)", permissions=["launch"])
def relaunch_selected(modeladmin, request, queryset: QuerySet):
    runs = list(queryset)
    if not _confirmed(request):
        return _confirmation(modeladmin, request, runs, "Relaunch", action="relaunch_selected")
    launched, failures = relaunch_runs(runs, user=request.user)
    report(modeladmin, request, "Relaunched as", launched, failures)
    return None


@admin.action(description="Revoke selected runs", permissions=["revoke"])
def revoke_selected(modeladmin, request, queryset: QuerySet):
    return _revoke_selected(modeladmin, request, queryset, "Revoke")


@admin.action(description="Terminate selected runs (kill them if running)", permissions=["terminate"])
def terminate_selected(modeladmin, request, queryset: QuerySet):
    return _revoke_selected(modeladmin, request, queryset, "Terminate")


def run_action_view(modeladmin, request, object_id: str, *, verb: str):
    """A run page's button: GET asks for confirmation, POST (confirmed) does it and goes back."""
    run = modeladmin.runs().filter(pk=object_id).first()
    if run is None:
        raise Http404("No such run")
    run_url = reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id])
    if request.method != "POST" or not _confirmed(request):
        return _confirmation(modeladmin, request, [run], verb, cancel_url=run_url)
    if verb == "Relaunch":
        launched, failures = relaunch_runs([run], user=request.user)
        report(modeladmin, request, "Relaunched as", launched, failures)
        next_url = reverse("admin:tasks_api_tasklaunch_change", args=launched) if launched else run_url
        return HttpResponseRedirect(next_url)
    revoked, skipped = revoke_runs([run], terminate=verb == "Terminate", user=request.user)
    report(modeladmin, request, "Terminated" if verb == "Terminate" else "Revoked", revoked, skipped)
    return HttpResponseRedirect(run_url)


def relaunch_runs(runs, *, user) -> tuple[list[str], list[str]]:
    """Relaunch each run; the new task ids, and a sentence for each run that was not."""
    launched, failures = [], []
    for run in runs:
        try:
            launched.append(task_relaunch_checked(launch=run, user=user).task_id)
        except (TaskLaunchFailed, FanOutAlreadyRunning) as exc:
            failures.append(f"{run.task_id}: {exc}")
    return launched, failures


def revoke_runs(runs, *, terminate: bool, user) -> tuple[list[str], list[str]]:
    revoked, skipped = [], []
    for run in runs:
        try:
            revoked += task_revoke(task_id=run.task_id, terminate=terminate, user=user)
        except TaskAlreadyFinished:
            skipped.append(f"{run.task_id} had already finished ({run.status}); its result is kept")
    return revoked, skipped


def _revoke_selected(modeladmin, request, queryset: QuerySet, verb: str):
    runs = list(queryset)
    if not _confirmed(request):
        return _confirmation(modeladmin, request, runs, verb, action=f"{verb.lower()}_selected")
    revoked, skipped = revoke_runs(runs, terminate=verb == "Terminate", user=request.user)
    report(modeladmin, request, "Terminated" if verb == "Terminate" else "Revoked", revoked, skipped)
    return None


def plan(run, verb: str) -> str:
    """What `verb` will do to `run`, in a sentence."""
    if verb == "Relaunch":
        return f"new {run.task_type} run with params {json.dumps(run.params)}"
    terminate = verb == "Terminate"
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


def _confirmation(modeladmin, request, runs, verb: str, *, action: str = "", cancel_url: str = ""):
    rows = [
        [display.run_link(run.task_id), run.task_type, display.status_badge(run.status), plan(run, verb)]
        for run in runs
    ]
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"{verb} {len(runs)} task run(s)?",
        "verb": verb,
        "plan_table": {"headers": ["Run", "Task type", "Status", "What will happen"], "rows": rows},
        "button_variant": "danger" if verb == "Terminate" else "primary",
        "runs": runs,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
        "cancel_url": cancel_url or reverse("admin:tasks_api_tasklaunch_changelist"),
    }
    return TemplateResponse(request, "admin/tasks_api/tasklaunch/confirm_action.html", context)


def report(modeladmin, request, verb: str, task_ids: list[str], problems: list[str]) -> None:
    if task_ids:
        modeladmin.message_user(
            request, format_html("{} {}", verb, display.run_links(task_ids)), messages.SUCCESS
        )
    for problem in problems:
        modeladmin.message_user(request, problem, messages.WARNING)
