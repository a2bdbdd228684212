"""Parameters of the sii tasks: one serializer per catalog task type, built on tasks_api's blocks."""

import re

from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from sii.selectors import company_exists
from sii.services.periods import current_year
from tasks_api.catalog import StrictIntegerField, TaskParamsSerializer

FIRST_YEAR = 2000  # electronic F29 filings start in the early 2000s
MAX_MONTH_OFFSET = 120  # ten years back: older periods are out of any practical reach
YEAR_FORMAT = re.compile(r"^[0-9]{4}$")


def check_year_range(value: str) -> None:
    this_year = timezone.localdate().year
    if YEAR_FORMAT.fullmatch(value) and not FIRST_YEAR <= int(value) <= this_year:
        raise serializers.ValidationError(f"year must be between {FIRST_YEAR} and {this_year}")


def years() -> list[str]:
    """Every year a sync accepts, oldest first: FIRST_YEAR to this year."""
    return [str(year) for year in range(FIRST_YEAR, timezone.localdate().year + 1)]


class YearField(serializers.RegexField):
    """A YYYY year in ASCII digits: \\d would also match other scripts' digits (full-width ones, say)."""


class YearFieldSchema(OpenApiSerializerFieldExtension):
    """The OpenAPI schema lists the accepted years (an enum), so it is exact about the range too;
    it is computed per schema, so it follows the calendar."""

    target_class = YearField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "enum": years()}


def year_field() -> YearField:
    return YearField(
        YEAR_FORMAT.pattern,
        required=False,
        default=current_year,
        validators=[check_year_range],
        error_messages={"invalid": "year must be a four-digit year (YYYY)"},
        help_text="Year to sync, YYYY (default: the current year in America/Santiago)",
    )


class CompanyIdField(serializers.UUIDField):
    """A company's UUID, as a string only: DRF's UUIDField reads an integer (and so false, true)
    as UUID(int=...), which would launch a sync for company 00000000-0000-0000-0000-000000000000."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def company_id_field() -> CompanyIdField:
    return CompanyIdField(help_text="Company UUID")


def months_field() -> StrictIntegerField:
    return StrictIntegerField(required=False, default=1, min_value=1, max_value=12)


def month_offset_field() -> StrictIntegerField:
    return StrictIntegerField(required=False, default=0, min_value=0, max_value=MAX_MONTH_OFFSET)


class CompanyTaskParamsSerializer(TaskParamsSerializer):
    """A task about one company: launching it for a company that does not exist is refused now,
    rather than failing later in the worker."""

    company_id = company_id_field()

    def validate(self, attrs: dict) -> dict:
        # A non-field error: its sentence reaches the API and the admin as written here.
        if not company_exists(company_id=attrs["company_id"]):
            raise serializers.ValidationError(f"company {attrs['company_id']} does not exist")
        return attrs


class SyncDocumentsParamsSerializer(CompanyTaskParamsSerializer):
    """Parameters of sii.sync_documents."""

    months = months_field()
    month_offset = month_offset_field()


class SyncDocumentsAllCompaniesParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_documents_all_companies."""

    months = months_field()
    month_offset = month_offset_field()


class SyncF29ParamsSerializer(CompanyTaskParamsSerializer):
    """Parameters of sii.sync_f29."""

    year = year_field()


class SyncF29AllCompaniesParamsSerializer(TaskParamsSerializer):
    """Parameters of sii.sync_f29_all_companies."""

    year = year_field()
