"""Launch a task from the admin: one form per catalog task type, validated by its serializer."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from rest_framework import fields as drf_fields
from unfold.widgets import UnfoldAdminTextInputWidget

from tasks_api import permissions
from tasks_api.console import subjects
from tasks_api.models import TaskLaunch
from tasks_api.registry import TaskType, catalog
from tasks_api.selectors.catalog import parameter_describe
from tasks_api.services.catalog import InvalidParams, task_launch_validated
from tasks_api.services.launches import TaskLaunchFailed


def urls(modeladmin) -> list:
    wrap = modeladmin.admin_site.admin_view
    return [
        path(
            "launch/",
            wrap(lambda request: choose_view(modeladmin, request)),
            name="tasks_api_tasklaunch_launch",
        ),
        path(
            "launch/<str:task_type>/",
            wrap(lambda request, task_type: launch_view(modeladmin, request, task_type)),
            name="tasks_api_tasklaunch_launch_type",
        ),
    ]


def choose_view(modeladmin, request):
    _require_launch(request)
    context = {**_context(modeladmin, request, "Launch a task"), "task_types": catalog().values()}
    return TemplateResponse(request, "admin/tasks_api/tasklaunch/launch_choose.html", context)


def launch_view(modeladmin, request, task_type: str):
    _require_launch(request)
    if task_type not in catalog():
        raise Http404(f"Unknown task type {task_type}")
    spec = catalog()[task_type]
    form = params_form(spec, modeladmin)(request.POST or None)
    if request.method == "POST" and form.is_valid() and (launch := _launch(request, spec, form)):
        return HttpResponseRedirect(reverse("admin:tasks_api_tasklaunch_change", args=[launch.task_id]))
    context = {**_context(modeladmin, request, f"Launch {task_type}"), "spec": spec, "form": form}
    return TemplateResponse(request, "admin/tasks_api/tasklaunch/launch_form.html", context)


def _launch(request, spec: TaskType, form: forms.Form) -> TaskLaunch | None:
    """Validate with the API's serializer (same defaults, limits, messages), then launch."""
    submitted = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
    try:
        launch = task_launch_validated(task_type=spec.name, data=submitted, user=request.user)
    except InvalidParams as exc:
        for name, sentences in exc.by_field.items():
            form.add_error(name if name in form.fields else None, sentences)
        return None
    except TaskLaunchFailed as exc:
        form.add_error(None, str(exc))
        return None
    messages.success(request, f"Launched {spec.name} as task {launch.task_id}.")
    return launch


def params_form(spec: TaskType, modeladmin) -> type[forms.Form]:
    """Inputs only: every check is the serializer's, so the admin says what the API says."""
    fields = {
        name: subjects.launch_field(
            spec, name, admin_site=modeladmin.admin_site, help_text=parameter_help(field)
        )
        or _form_field(field)
        for name, field in spec.params().fields.items()
    }
    return type(f"{spec.name.title().replace('.', '').replace('_', '')}Form", (forms.Form,), fields)


def _form_field(field: drf_fields.Field) -> forms.Field:
    described = parameter_describe(field)
    return forms.CharField(
        required=False,
        initial=described.get("default"),
        help_text=parameter_help(field),
        widget=UnfoldAdminTextInputWidget(),
    )


def parameter_help(field: drf_fields.Field) -> str:
    """The catalog's description of a parameter as a form's help text: limits, default, required."""
    described = parameter_describe(field)
    parts = [described.get("description", "")]
    if "min" in described:
        parts.append(f"from {described['min']}" + (f" to {described['max']}" if "max" in described else ""))
    if "default" in described:
        parts.append(f"default {described['default']}")
    parts.append("required" if described["required"] else "optional")
    return "; ".join(part for part in parts if part)


def _require_launch(request) -> None:
    if not request.user.has_perm(permissions.LAUNCH):
        raise PermissionDenied


def _context(modeladmin, request, title: str) -> dict:
    return {**modeladmin.admin_site.each_context(request), "title": title, "opts": modeladmin.model._meta}
