"""The task listing, generated from the catalog's parameter serializers."""

from django.core.validators import RegexValidator
from rest_framework import fields as drf_fields

from tasks_api.registry import TaskType, catalog


def task_types_list() -> list[dict]:
    return [task_type_describe(task_type) for task_type in catalog().values()]


def task_type_describe(task_type: TaskType) -> dict:
    parameters = {name: parameter_describe(field) for name, field in task_type.params().fields.items()}
    return {
        "task_type": task_type.name,
        "name": task_type.name,
        "description": task_type.description,
        "parameters": parameters,
    }


def parameter_describe(field: drf_fields.Field) -> dict:
    """The original service's shape: type, required, then default, min, max, pattern, description where they apply."""
    described = {"type": _json_type(field), "required": field.required}
    if not field.required and field.default is not drf_fields.empty:
        described["default"] = field.default() if callable(field.default) else field.default
    for key, value in (
        ("min", getattr(field, "min_value", None)),
        ("max", getattr(field, "max_value", None)),
    ):
        if value is not None:
            described[key] = value
    if pattern := _pattern(field):
        described["pattern"] = pattern
    if field.help_text:
        described["description"] = str(field.help_text)
    return described


def _json_type(field: drf_fields.Field) -> str:
    if isinstance(field, drf_fields.BooleanField):
        return "boolean"
    if isinstance(field, drf_fields.IntegerField):
        return "integer"
    return "string"


def _pattern(field: drf_fields.Field) -> str | None:
    patterns = [
        str(getattr(v.regex, "pattern", v.regex)) for v in field.validators if isinstance(v, RegexValidator)
    ]
    return patterns[0] if patterns else None
