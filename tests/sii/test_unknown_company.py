"""A launch for a company that does not exist is refused at launch (422 in the API, an error on the
admin's form), before anything is recorded or published, instead of failing later in the worker."""

import pytest
from django.urls import reverse

from sii.params import SyncDocumentsParamsSerializer, SyncF29ParamsSerializer
from tasks_api.models import TaskLaunch
from tasks_api.services.catalog import InvalidParams, task_launch_validated
from tests.factories import CompanyFactory
from tests.tasks_api.conftest import client_for, user_in

pytestmark = pytest.mark.django_db
MISSING = "0b6f4c1e-3d2a-4e5f-9a8b-7c6d5e4f3a2b"


@pytest.fixture
def api():
    return client_for(user_in("task operators", username="operator"))


@pytest.mark.parametrize("task_type", ["sii.sync_documents", "sii.sync_f29"])
def test_the_api_refuses_a_missing_company_with_422_and_records_nothing(api, task_type):
    response = api.post(
        "/api/celery/tasks/launch", {"task_type": task_type, "params": {"company_id": MISSING}}, format="json"
    )

    assert response.status_code == 422
    assert response.json() == {"detail": f"Invalid parameters: company {MISSING} does not exist"}
    assert not TaskLaunch.objects.exists()


def test_every_launch_surface_gets_the_same_sentence():
    user = user_in("task operators", username="operator")

    with pytest.raises(InvalidParams) as refused:
        task_launch_validated(task_type="sii.sync_f29", data={"company_id": MISSING}, user=user)

    assert refused.value.sentences == [f"company {MISSING} does not exist"]


def test_the_admin_launch_form_says_the_company_does_not_exist(client, superuser):
    url = reverse("admin:tasks_api_tasklaunch_launch_type", args=["sii.sync_documents"])

    page = client.post(url, {"company_id": MISSING, "months": "1"}).content.decode()

    assert f"company {MISSING} does not exist" in page
    assert not TaskLaunch.objects.exists()


@pytest.mark.parametrize("serializer", [SyncDocumentsParamsSerializer, SyncF29ParamsSerializer])
def test_an_existing_company_is_accepted_in_any_uuid_spelling(serializer):
    company = CompanyFactory()

    params = serializer(data={"company_id": str(company.pk).upper()})

    assert params.is_valid(), params.errors
    assert params.task_kwargs()["company_id"] == str(company.pk)


def test_a_malformed_id_is_still_refused_as_not_a_uuid_without_a_query(django_assert_num_queries):
    params = SyncF29ParamsSerializer(data={"company_id": "nope"})

    with django_assert_num_queries(0):
        assert not params.is_valid()
    assert str(params.errors["company_id"][0]) == "Must be a valid UUID."
