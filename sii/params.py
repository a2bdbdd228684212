"""Parameters of the sii tasks: one serializer per catalog task type, built on tasks_api's blocks."""

from django.utils import timezone
from rest_framework import serializers

from sii.services.periods import current_year
from tasks_api.params import StrictIntegerField, TaskParamsSerializer

FIRST_YEAR = 2000  # electronic F29 filings start in the early 2000s
MAX_MONTH_OFFSET = 120  # ten years back: older periods are out of any practical reach


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


def months_field() -> StrictIntegerField:
    return StrictIntegerField(required=False, default=1, min_value=1, max_value=12)


def month_offset_field() -> StrictIntegerField:
    return StrictIntegerField(required=False, default=0, min_value=0, max_value=MAX_MONTH_OFFSET)


class SyncDocumentsParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_documents."""

    company_id = serializers.UUIDField(help_text="Company UUID")
    months = months_field()
    month_offset = month_offset_field()


class SyncDocumentsAllCompaniesParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_documents_all_companies."""

    months = months_field()
    month_offset = month_offset_field()


class SyncF29ParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_f29."""

    company_id = serializers.UUIDField(help_text="Company UUID")
    year = year_field()


class SyncF29AllCompaniesParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_f29_all_companies."""

    year = year_field()
