""" "Relaunch all failed in this filter": the runs list's filters, its FAILURE runs, relaunched once.

A failed run that was already relaunched is skipped (its relaunch is a run of its own, in the
list if it failed too), so pressing the button twice does not launch everything twice.
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from tasks_api.console import actions, display
from tasks_api.models import TaskLaunch

SHOWN = 20  # runs listed on the confirmation page; the count covers them all


def relaunch_failed_view(modeladmin, request):
    try:
        failed = failed_in_filter(modeladmin, request)
    except IncorrectLookupParameters:
        return HttpResponseBadRequest("These filters do not apply to task runs.")
    changelist = reverse("admin:tasks_api_tasklaunch_changelist")
    back = f"{changelist}?{request.GET.urlencode()}" if request.GET else changelist
    if request.method == "POST" and request.POST.get("post") == "yes":
        runs = list(failed.filter(already_relaunched=False).order_by("created_at"))
        launched, failures = actions.relaunch_runs(runs, user=request.user)
        actions.report(
            modeladmin, request, f"Relaunched {len(launched)} failed run(s) as", launched, failures
        )
        return HttpResponseRedirect(back)
    return _confirmation(modeladmin, request, failed, back)


def failed_in_filter(modeladmin, request) -> QuerySet:
    """The FAILURE runs the runs list shows with the request's filters and search, on any page."""
    shown = modeladmin.get_changelist_instance(request).get_queryset(request)
    relaunched = TaskLaunch.objects.filter(relaunch_of=OuterRef("pk"))
    return shown.filter(status="FAILURE").annotate(already_relaunched=Exists(relaunched))


def _confirmation(modeladmin, request, failed: QuerySet, back: str) -> TemplateResponse:
    to_relaunch = failed.filter(already_relaunched=False)
    count = to_relaunch.count()
    skipped = failed.filter(already_relaunched=True).count()
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Relaunch {display.number(count)} failed run(s)?",
        "count": count,
        "count_text": display.number(count),
        "skipped": display.number(skipped) if skipped else "",
        "filters": _filter_words(request),
        "sample": bool(count),
        "sample_table": {
            "headers": ["run", "task type", "subject", "failed"],
            "rows": [
                [
                    display.run_link(run.task_id, run.task_id[:8]),
                    run.task_type,
                    modeladmin.subject_label(run) or "—",
                    display.moment(run.finished_at),
                ]
                for run in to_relaunch.order_by("created_at")[:SHOWN]
            ],
        },
        "more": max(count - SHOWN, 0),
        "opts": modeladmin.model._meta,
        "cancel_url": back,
    }
    return TemplateResponse(request, "admin/tasks_api/tasklaunch/relaunch_failed.html", context)


def _filter_words(request) -> list[str]:
    return [f"{name} = {value}" for name, value in request.GET.items() if name not in ("p", "o")]
