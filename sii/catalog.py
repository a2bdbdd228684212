"""The sii task catalog: the four launchable task types, registered with tasks_api by settings.

settings.TASKS_API_CATALOG names this CATALOG; the API, its validation and OpenAPI schema, and
the admin's launch forms all read it.
"""

from drf_spectacular.utils import OpenApiExample

from sii import params, tasks
from sii.console import COMPANY_RUNS
from tasks_api.catalog import TaskType

# The original service's example company, so its documented curl examples work as written.
EXAMPLE_COMPANY_ID = "123e4567-e89b-12d3-a456-426614174000"
SUBJECT = "company_id"

CATALOG = (
    TaskType(
        name="sii.sync_documents",
        description="Sync tax documents (purchases, sales, honorarios) for a single company",
        params=params.SyncDocumentsParamsSerializer,
        task=tasks.sync_documents,
        console=COMPANY_RUNS,
        subject=SUBJECT,
        examples=(
            OpenApiExample(
                "Sync documents for one company",
                value={"company_id": EXAMPLE_COMPANY_ID, "months": 3, "month_offset": 0},
            ),
        ),
        result_example={
            "success": True,
            "compras": {"total": 150, "period": "202501"},
            "ventas": {"total": 89, "period": "202501"},
            "honorarios": {"total": 12},
        },
    ),
    TaskType(
        name="sii.sync_documents_all_companies",
        description="Sync tax documents for all companies with an active subscription",
        params=params.SyncDocumentsAllCompaniesParamsSerializer,
        task=tasks.sync_documents_all_companies,
        console=COMPANY_RUNS,
        children="sii.sync_documents",
        examples=(
            OpenApiExample("Sync documents for all companies", value={"months": 1, "month_offset": 1}),
        ),
    ),
    TaskType(
        name="sii.sync_f29",
        description="Sync F29 declarations for a single company",
        params=params.SyncF29ParamsSerializer,
        task=tasks.sync_f29,
        console=COMPANY_RUNS,
        subject=SUBJECT,
        examples=(
            OpenApiExample(
                "Sync F29 for one company", value={"company_id": EXAMPLE_COMPANY_ID, "year": "2025"}
            ),
        ),
    ),
    TaskType(
        name="sii.sync_f29_all_companies",
        description="Sync F29 declarations for all companies with SII credentials",
        params=params.SyncF29AllCompaniesParamsSerializer,
        task=tasks.sync_f29_all_companies,
        console=COMPANY_RUNS,
        children="sii.sync_f29",
        examples=(OpenApiExample("Sync F29 for all companies", value={"year": "2025"}),),
    ),
)
