"""The runs' subjects as the domain declares them (registry.ConsoleHooks): name, link, search,
result tables and the launch form's picker; generic fallbacks where a task type declares none."""

from typing import Any

from django.apps import apps
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce

from tasks_api.console import display
from tasks_api.registry import ConsoleHooks, TaskType, catalog, console_hooks


def hooks_of(task_type: str) -> ConsoleHooks | None:
    declared = catalog().get(task_type)
    return declared.console if declared else None


def subject_title() -> str:
    """What the runs list calls a subject ("company"): the first declared title."""
    return next((hooks.subject_title for hooks in console_hooks()), "subject")


def search_help() -> str:
    """The runs list's search help: the task id, and what each declared search finds."""
    helps = [hooks.subject_search_help for hooks in console_hooks() if hooks.subject_search_help]
    return ", or ".join(["Task id", *helps]) + "."


def with_subject_names(runs: QuerySet) -> QuerySet:
    """Each run annotated with `subject_name`: its subject's name from the declared models ("" when
    none names it; the column sorts by it either way)."""
    names = [
        _name_subquery(hooks.subject_model, hooks.subject_name_field)
        for hooks in console_hooks()
        if hooks.subject_model
    ]
    none = Value("", output_field=CharField())
    return runs.annotate(subject_name=Coalesce(*names, none) if names else none)


def _name_subquery(model_name: str, name_field: str) -> Subquery:
    subjects = apps.get_model(model_name)._default_manager.filter(pk=OuterRef("subject_id"))
    return Subquery(subjects.values(subject_label=Cast(name_field, CharField()))[:1])


def subject_ids_matching(term: str) -> list[Any]:
    """The ids of the subjects each declared search finds for `term`."""
    found: list[Any] = []
    for hooks in console_hooks():
        if hooks.subject_search and term:
            found.extend(hooks.subject_search(term))
    return found


def subject_link(run, label: str) -> str:
    """The subject's admin page, named; the label alone when its model has no admin page."""
    hooks = hooks_of(run.task_type)
    if hooks is None or not hooks.subject_model:
        return label
    meta = apps.get_model(hooks.subject_model)._meta
    return display.admin_link(f"admin:{meta.app_label}_{meta.model_name}_change", run.subject_id, label)


def result_tables(run, result: Any) -> list[dict]:
    hooks = hooks_of(run.task_type)
    return (hooks.result_tables(result) or []) if hooks and hooks.result_tables else []


def launch_field(spec: TaskType, name: str, *, admin_site, help_text: str) -> Any:
    """The domain's input for the task type's subject parameter; None for any other."""
    hooks = spec.console
    if hooks is None or hooks.launch_field is None or name != spec.subject:
        return None
    return hooks.launch_field(admin_site=admin_site, help_text=help_text)
