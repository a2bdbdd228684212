"""Parameter schemas of the launchable tasks: DRF serializers, one per task type.

The API's validation, the task listing, the OpenAPI request bodies and the admin's launch
forms are all generated from these classes.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from rest_framework import serializers

from sii.services.periods import current_year

FIRST_YEAR = 2000  # electronic F29 filings start in the early 2000s
MAX_MONTH_OFFSET = 120  # ten years back: older periods are out of any practical reach


class RejectUnknownFields:
    """Serializer mixin: fields it does not declare are an error, so a typo never passes silently."""

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


def check_year_range(value: str) -> None:
    this_year = timezone.localdate().year
    if len(value) == 4 and value.isdigit() and not FIRST_YEAR <= int(value) <= this_year:
        raise serializers.ValidationError(f"year must be between {FIRST_YEAR} and {this_year}")


def year_field() -> serializers.RegexField:
    return serializers.RegexField(
        r"^\d{4}$",
        required=False,
        default=current_year,
        validators=[check_year_range],
        error_messages={"invalid": "year must be a four-digit year (YYYY)"},
        help_text="Year to sync, YYYY (default: the current year in America/Santiago)",
    )


def describe_errors(serializer: serializers.Serializer, detail: dict) -> list[str]:
    """Sentences naming each bad parameter: 'months must be between 1 and 12'."""
    return [
        sentence
        for sentences in describe_errors_by_field(serializer, detail).values()
        for sentence in sentences
    ]


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


class SyncDocumentsParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_documents."""

    company_id = serializers.UUIDField(help_text="Company UUID")
    months = StrictIntegerField(required=False, default=1, min_value=1, max_value=12)
    month_offset = StrictIntegerField(required=False, default=0, min_value=0, max_value=MAX_MONTH_OFFSET)


class SyncDocumentsAllCompaniesParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_documents_all_companies."""

    months = StrictIntegerField(required=False, default=1, min_value=1, max_value=12)
    month_offset = StrictIntegerField(required=False, default=0, min_value=0, max_value=MAX_MONTH_OFFSET)


class SyncF29ParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_f29."""

    company_id = serializers.UUIDField(help_text="Company UUID")
    year = year_field()


class SyncF29AllCompaniesParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_f29_all_companies."""

    year = year_field()
