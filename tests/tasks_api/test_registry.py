"""The catalog: loaded from the module the settings name, checked as it loads."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from sii import catalog as sii_catalog
from tasks_api.params import TaskParamsSerializer
from tasks_api.registry import TaskType, UnknownTaskType, catalog, catalog_check, task_type_get


class SubjectIsText(TaskParamsSerializer):
    company = serializers.CharField()


def a_task_type(**fields) -> TaskType:
    declared = sii_catalog.CATALOG[0]
    return TaskType(
        **{"name": declared.name, "description": "", "params": declared.params, "task": declared.task}
        | fields
    )


def test_the_catalog_is_the_one_the_settings_name():
    assert list(catalog()) == [task_type.name for task_type in sii_catalog.CATALOG]


def test_an_unknown_task_type_names_the_ones_available():
    with pytest.raises(UnknownTaskType, match=r"available: sii\.sync_documents, "):
        task_type_get("sii.sync_everything")


def test_a_task_type_declared_twice_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        catalog_check([a_task_type(), a_task_type()])


def test_a_subject_that_is_not_a_uuid_parameter_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="must be a UUID parameter"):
        catalog_check([a_task_type(params=SubjectIsText, subject="company")])
    with pytest.raises(ImproperlyConfigured, match="must be a UUID parameter"):
        catalog_check([a_task_type(subject="no_such_parameter")])


@pytest.mark.parametrize(
    ("params", "subject"),
    [
        ({"company_id": "123E4567-E89B-12D3-A456-426614174000"}, "123e4567-e89b-12d3-a456-426614174000"),
        ({"company_id": "not-a-uuid"}, None),
        ({"company_id": None}, None),
        ({}, None),
    ],
)
def test_the_subject_is_the_declared_parameter_in_canonical_form_or_none(params, subject):
    assert a_task_type(subject="company_id").subject_of(params) == subject
