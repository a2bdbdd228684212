"""The task catalog: every launchable task type, declared once.

The listing endpoint, launch validation, the OpenAPI request schema and the admin read this
module; nothing else names task types.
"""

from dataclasses import dataclass

from celery import Task
from rest_framework import serializers

from sii import tasks as sii_tasks
from tasks_api import params


@dataclass(frozen=True)
class TaskType:
    name: str
    description: str
    params: type[serializers.Serializer]
    task: Task
    children: str | None = None  # the task type a fan-out parent publishes, one per company

    @property
    def fans_out(self) -> bool:
        return self.children is not None


class UnknownTaskType(LookupError):
    def __init__(self, name: object) -> None:
        super().__init__(f"Unknown task_type {name!r}; available: {', '.join(CATALOG)}")


CATALOG: dict[str, TaskType] = {
    task_type.name: task_type
    for task_type in (
        TaskType(
            name="sii.sync_documents",
            description="Sync tax documents (purchases, sales, honorarios) for a single company",
            params=params.SyncDocumentsParamsSerializer,
            task=sii_tasks.sync_documents,
        ),
        TaskType(
            name="sii.sync_documents_all_companies",
            description="Sync tax documents for all companies with an active subscription",
            params=params.SyncDocumentsAllCompaniesParamsSerializer,
            task=sii_tasks.sync_documents_all_companies,
            children="sii.sync_documents",
        ),
        TaskType(
            name="sii.sync_f29",
            description="Sync F29 declarations for a single company",
            params=params.SyncF29ParamsSerializer,
            task=sii_tasks.sync_f29,
        ),
        TaskType(
            name="sii.sync_f29_all_companies",
            description="Sync F29 declarations for all companies with SII credentials",
            params=params.SyncF29AllCompaniesParamsSerializer,
            task=sii_tasks.sync_f29_all_companies,
            children="sii.sync_f29",
        ),
    )
}


def task_type_get(name: object) -> TaskType:
    if not isinstance(name, str) or name not in CATALOG:
        raise UnknownTaskType(name)
    return CATALOG[name]
