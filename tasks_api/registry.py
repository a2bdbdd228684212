"""The task catalog's types, and the catalog itself, loaded from the module the settings name.

The domain declares its launchable tasks (settings.TASKS_API_CATALOG, e.g.
"sii.catalog.CATALOG"); the listing endpoint, launch validation, the OpenAPI schema and the
admin read them through `catalog()`, so this app never names a task type itself.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from celery import Task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from tasks_api.params import TaskParamsSerializer


@dataclass(frozen=True)
class ConsoleHooks:
    """How the console shows a task type's runs: the domain's extension points (all optional).

    `subject_model` ("app_label.Model") names the subject's model: its `subject_name_field`
    names a run's subject in lists and its admin page is the subject's link. `subject_search`
    maps a search term to the ids of matching subjects (the runs list finds their runs).
    `result_tables` turns a successful result into tables ({title, headers, rows}); None or []
    falls back to the generic one. `launch_field(admin_site=, help_text=)` is the launch form's
    input for the subject parameter (a picker, say)."""

    subject_title: str = "subject"
    subject_model: str | None = None
    subject_name_field: str = "pk"
    subject_search: Callable[[str], Iterable[Any]] | None = None
    subject_search_help: str = ""
    result_tables: Callable[[Any], list[dict] | None] | None = None
    launch_field: Callable[..., Any] | None = None


@dataclass(frozen=True)
class TaskType:
    """One launchable task: what it is called, what it takes, and what runs it."""

    name: str
    description: str
    params: type[TaskParamsSerializer]
    task: Task
    # The task type a fan-out parent publishes, one child per subject.
    children: str | None = None
    # The parameter naming the domain object a run is about (a UUID): runs are filtered by it.
    subject: str | None = None
    # OpenAPI examples of the params (the launch body's `params`, not the whole body).
    examples: tuple[OpenApiExample, ...] = ()
    # What a successful run returns, for the status endpoint's OpenAPI example.
    result_example: dict[str, Any] | None = field(default=None, hash=False)
    # How the console shows its runs (subject, search, results, launch form): the domain's hooks.
    console: ConsoleHooks | None = None

    @property
    def fans_out(self) -> bool:
        return self.children is not None

    def subject_of(self, params: Mapping[str, Any]) -> str | None:
        """The subject's id in canonical form, or None when the params carry none (or a bad one)."""
        if self.subject is None or params.get(self.subject) in (None, ""):
            return None
        try:
            return str(serializers.UUIDField().to_internal_value(params[self.subject]))
        except serializers.ValidationError:
            return None


class UnknownTaskType(LookupError):
    def __init__(self, name: object) -> None:
        super().__init__(f"Unknown task_type {name!r}; available: {', '.join(catalog())}")


@cache
def catalog() -> Mapping[str, TaskType]:
    """The task types the settings' catalog declares, by name (loaded once per process)."""
    declared = import_string(settings.TASKS_API_CATALOG)
    return catalog_check(declared)


def catalog_check(declared: Iterable[TaskType]) -> dict[str, TaskType]:
    """The declared types by name; a duplicate name or a subject the params lack fails loudly."""
    by_name: dict[str, TaskType] = {}
    for task_type in declared:
        if task_type.name in by_name:
            raise ImproperlyConfigured(f"Task type {task_type.name} is declared twice in the catalog.")
        subject_field = task_type.params().fields.get(task_type.subject) if task_type.subject else None
        if task_type.subject and not isinstance(subject_field, serializers.UUIDField):
            raise ImproperlyConfigured(
                f"{task_type.name}: subject {task_type.subject!r} must be a UUID parameter."
            )
        by_name[task_type.name] = task_type
    return by_name


def task_type_get(name: object) -> TaskType:
    if not isinstance(name, str) or name not in catalog():
        raise UnknownTaskType(name)
    return catalog()[name]


def console_hooks() -> list[ConsoleHooks]:
    """The distinct console hooks the catalog's task types declare, in catalog order."""
    return list(dict.fromkeys(t.console for t in catalog().values() if t.console is not None))
