"""The task runs admin as the sii app's console hooks extend it: each run's company, found by name or RUT."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from tasks_api.console.runs import TaskLaunchAdmin
from tasks_api.models import TaskLaunch
from tests.factories import CompanyFactory, TaskLaunchFactory
from tests.runs import CHANGELIST, failed_run, stored

pytestmark = pytest.mark.django_db


def test_the_sii_app_extends_the_runs_admin_through_hooks_not_by_replacing_it():
    registered = admin.site._registry[TaskLaunch]

    assert type(registered) is TaskLaunchAdmin
    assert registered.search_help_text == "Task id, or a company's name or RUT."


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


def test_the_launch_form_picks_the_company_with_an_autocomplete_and_shows_the_catalog_defaults(
    client, superuser
):
    CompanyFactory(name="Demo SpA")

    page = client.get(
        reverse("admin:tasks_api_tasklaunch_launch_type", args=["sii.sync_documents"])
    ).content.decode()

    assert 'name="months"' in page
    assert 'value="1"' in page
    assert "from 1 to 12" in page
    assert reverse("admin:sii_company_pick") in page  # the select asks the picker as one types
    assert "Demo SpA" not in page  # never the whole list of companies
    assert "admin/js/autocomplete.js" in page  # the form's media is on the page


def sync_result(periods: dict) -> dict:
    surface = {
        "total": 50,
        "created": 32,
        "updated": 1,
        "unchanged": 17,
        "period": "202611",
        "periods": periods,
    }
    return {"success": True, "compras": surface, "ventas": {**surface, "periods": {}}}


def test_a_sync_s_result_is_a_table_of_surface_and_period_with_its_counts(client, superuser):
    company = CompanyFactory()
    run = TaskLaunchFactory(params={"company_id": str(company.pk)}, subject_id=company.pk)
    periods = {
        "202610": {"total": 1204, "created": 4, "updated": 0, "unchanged": 1200, "summaries": 3},
        "202611": {"total": 8, "created": 0, "updated": 2, "unchanged": 6, "summaries": 1},
    }
    stored(run, "SUCCESS", sync_result(periods))

    page = client.get(reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id])).content.decode()
    cells = [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", page, flags=re.S)]

    assert "Synced rows" in page
    assert cells[cells.index("202610") - 1 : cells.index("202610") + 5] == [
        "compras", "202610", "1,204", "4", "0", "1,200",
    ]  # fmt: skip
    assert "all 2 periods" in cells
    assert "Raw JSON" in page


def test_a_result_of_another_shape_falls_back_to_the_generic_table():
    registered = admin.site._registry[TaskLaunch]
    run = TaskLaunchFactory(task_type="sii.sync_documents_all_companies", params={})

    tables = registered.result_tables(run, {"success": True, "children": 3})

    assert tables[0]["rows"] == [["success", "True"], ["children", "3"]]


def test_a_parent_s_children_table_names_each_child_s_company_and_error(client, superuser):
    failing = CompanyFactory(name="Clave Mala SpA")
    parent = TaskLaunchFactory(task_type="sii.sync_documents_all_companies", params={})
    child = TaskLaunchFactory(parent=parent, launched_by="fanout", subject_id=failing.pk)
    stored(child, "FAILURE", {"exc_type": "SiiBadCredentials", "exc_message": ["The SII rejected the clave"]})

    page = client.get(
        reverse("admin:tasks_api_tasklaunch_children", args=[parent.task_id]), {"status": "FAILURE"}
    ).content.decode()

    assert "Clave Mala SpA" in page
    assert "The SII rejected the clave" in page
