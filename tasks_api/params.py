"""Building blocks of the catalog's parameter serializers, and the sentences their errors become.

A domain's catalog declares one TaskParamsSerializer per task type; the API's validation, the
task listing, the OpenAPI request bodies and the admin's launch forms are generated from them.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import serializers


class RejectUnknownFields(serializers.Serializer):
    """A serializer base: fields it does not declare are an error, so a typo never passes silently."""

    unknown_word = "field"
    unknown_key = "non_field_errors"

    def to_internal_value(self, data):
        if isinstance(data, dict) and (unknown := sorted(set(data) - set(self.fields))):
            allowed = ", ".join(self.fields) or "none"
            message = f"unknown {self.unknown_word} {', '.join(unknown)} (allowed: {allowed})"
            raise serializers.ValidationError({self.unknown_key: [message]})
        return super().to_internal_value(data)


class TaskParamsSerializer(RejectUnknownFields, serializers.Serializer):
    """A task's keyword arguments."""

    unknown_word = "parameter"
    unknown_key = "params"

    def task_kwargs(self) -> dict:
        """The validated parameters as plain JSON values (UUIDs as strings): the task's kwargs."""
        return json.loads(json.dumps(self.validated_data, cls=DjangoJSONEncoder))


class StrictIntegerField(serializers.IntegerField):
    """An integer field that refuses booleans (JSON true is not 1)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def describe_errors_by_field(serializer: serializers.Serializer, detail: dict) -> dict[str, list[str]]:
    """The same sentences, per parameter ("params" holds the ones about no single parameter)."""
    return {
        name: [_describe(name, serializer.fields.get(name), error) for error in _as_list(errors)]
        for name, errors in detail.items()
    }


def _as_list(errors) -> list:
    return errors if isinstance(errors, list) else [errors]


def _describe(name: str, field, error) -> str:
    message, code = str(error), getattr(error, "code", "")
    if field is None or message.startswith(f"{name} "):
        return message
    if code in ("required", "null"):
        return f"{name} is required"
    if code in ("min_value", "max_value"):
        low, high = field.min_value, field.max_value
        return (
            f"{name} must be between {low} and {high}"
            if high is not None
            else f"{name} must be at least {low}"
        )
    if isinstance(field, serializers.IntegerField):
        return f"{name} must be an integer"
    if isinstance(field, serializers.UUIDField):
        return f"{name} must be a UUID"
    return f"{name}: {message}"
