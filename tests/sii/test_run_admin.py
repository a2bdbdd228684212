"""The task runs admin as the sii app extends it: each run's company, found by name or RUT."""

import pytest
from django.contrib import admin
from django.urls import reverse

from sii.admin.runs import CompanyTaskLaunchAdmin
from tasks_api.admin.runs import TaskLaunchAdmin
from tasks_api.models import TaskLaunch
from tests.factories import CompanyFactory, TaskLaunchFactory
from tests.runs import CHANGELIST, failed_run

pytestmark = pytest.mark.django_db


def test_the_sii_admin_replaces_the_generic_runs_admin():
    registered = admin.site._registry[TaskLaunch]

    assert isinstance(registered, CompanyTaskLaunchAdmin)
    assert isinstance(registered, TaskLaunchAdmin)


def test_the_list_shows_status_company_and_who_launched(client, superuser):
    company = CompanyFactory(name="Ferretería Sur SpA")
    run = failed_run(company)

    page = client.get(CHANGELIST).content.decode()

    assert run.task_id[:8] in page
    assert "Ferretería Sur SpA" in page
    assert reverse("admin:sii_company_change", args=[company.pk]) in page
    assert "FAILURE" in page
    assert "User" in page


@pytest.mark.parametrize("term", ["Ferretería", "76.100", "76100999", "task-id"])
def test_search_finds_runs_by_task_id_company_name_or_rut(client, superuser, term):
    company = CompanyFactory(name="Ferretería Sur SpA", rut_body=76_100_999)
    run = failed_run(company)
    other = TaskLaunchFactory()
    term = run.task_id if term == "task-id" else term.replace("76.100", company.rut_formatted)

    page = client.get(CHANGELIST, {"q": term}).content.decode()

    assert run.task_id[:8] in page
    assert other.task_id[:8] not in page


def test_a_fan_out_parent_lists_its_children_by_company(client, superuser):
    company = CompanyFactory(name="Panadería La Espiga")
    parent = TaskLaunchFactory(task_type="sii.sync_documents_all_companies", params={})
    TaskLaunchFactory(parent=parent, launched_by="fanout", subject_id=company.pk)

    page = client.get(reverse("admin:tasks_api_tasklaunch_change", args=[parent.task_id])).content.decode()

    assert "Panadería La Espiga" in page


def test_the_launch_form_picks_the_company_from_a_list_and_shows_the_catalog_defaults(client, superuser):
    company = CompanyFactory(name="Demo SpA")

    page = client.get(
        reverse("admin:tasks_api_tasklaunch_launch_type", args=["sii.sync_documents"])
    ).content.decode()

    assert 'name="months"' in page
    assert 'value="1"' in page
    assert "from 1 to 12" in page
    assert f'<option value="{company.pk}">Demo SpA ({company.rut_formatted})</option>' in page
