"""The companies in the operators' console: the clave's state, the syncs' runs, the failing
companies on the dashboard, the company picker and the sync buttons on a company's page."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from sii import selectors
from sii.admin.columns import when_text
from sii.admin.dashboard import failing_companies
from sii.models import Company
from tasks_api.models import TaskLaunch
from tests.factories import CompanyFactory, TaskLaunchFactory, UserFactory
from tests.runs import publish_failed, stored

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:sii_company_changelist")
PICK = reverse("admin:sii_company_pick")
LAUNCH_DOCUMENTS = reverse("admin:tasks_api_tasklaunch_launch_type", args=["sii.sync_documents"])
BAD_CLAVE = "The SII rejected this company's clave on 2026-11-28 14:03; update it in the admin to sync again"
HOUR = datetime.timedelta(hours=1)


def company_url(company) -> str:
    return reverse("admin:sii_company_change", args=[company.pk])


def run_url(run) -> str:
    return reverse("admin:tasks_api_tasklaunch_change", args=[run.task_id])


def run(company, status: str | None, *, task_type="sii.sync_documents", ago=HOUR, error="", **fields):
    """A sync run of the company launched `ago`; with a stored result in `status` unless None."""
    launch = TaskLaunchFactory(
        task_type=task_type, params={"company_id": str(company.pk)}, subject_id=company.pk, **fields
    )
    TaskLaunch.objects.filter(pk=launch.pk).update(created_at=timezone.now() - ago)
    if status == "FAILURE":
        stored(launch, status, {"exc_type": "SiiBadCredentials", "exc_message": [error or BAD_CLAVE]})
    elif status is not None:
        stored(launch, status, {"success": True})
    return launch


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def html_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# The clave's state, from the last login outcome


def test_a_rejected_clave_says_when_and_links_to_the_password_field(client, superuser):
    rejected_at = timezone.now() - datetime.timedelta(days=2)
    company = CompanyFactory(
        sii_password_rejected_at=rejected_at, sii_password_accepted_at=rejected_at - HOUR
    )

    for page in (CHANGELIST, company_url(company)):
        html = html_of(client.get(page))
        assert f"Rejected by the SII on {when_text(rejected_at)}: " in html
        assert f'<a href="{company_url(company)}#id_sii_password"' in html
        assert "change the clave</a>" in html
        assert "Accepted by the SII" not in html


def test_an_accepted_clave_says_when_the_sii_last_accepted_it(client, superuser):
    accepted_at = timezone.now() - HOUR
    company = CompanyFactory(sii_password_accepted_at=accepted_at)

    html = html_of(client.get(company_url(company)))

    assert f"Accepted by the SII on {when_text(accepted_at)}" in html
    assert "change the clave" not in html


def test_a_clave_no_sync_has_used_yet_was_never_tried(client, superuser):
    CompanyFactory()

    html = html_of(client.get(CHANGELIST))

    assert "Never tried" in html
    assert "Accepted by the SII" not in html
    assert "Rejected by the SII" not in html


def test_a_company_without_a_clave_says_so_and_links_to_the_field(client, superuser):
    company = CompanyFactory(without_credentials=True)

    html = html_of(client.get(CHANGELIST))

    assert "No clave stored" in html
    assert f"{company_url(company)}#id_sii_password" in html


def test_changing_the_clave_clears_the_rejection_so_the_next_sync_is_tried(client, superuser):
    company = CompanyFactory(subscribed=True, sii_password_rejected_at=timezone.now())
    data = {
        "name": company.name, "rut": company.rut_formatted, "sii_password": "la-correcta",
        "subscriptions-TOTAL_FORMS": "0", "subscriptions-INITIAL_FORMS": "0",
    }  # fmt: skip

    assert client.post(company_url(company), data).status_code == 302

    assert str(company.pk) in selectors.company_ids_with_active_subscription()
    assert "Never tried" in html_of(client.get(company_url(company)))


# The syncs' runs on the list and on the company's page


def test_the_list_shows_each_kind_s_last_sync_with_its_state_linking_to_the_run(client, superuser):
    company = CompanyFactory(name="Ferretería Sur SpA")
    run(company, "FAILURE", ago=3 * HOUR)
    documents = run(company, "SUCCESS", ago=HOUR)
    f29 = run(company, "FAILURE", task_type="sii.sync_f29", ago=2 * HOUR)
    CompanyFactory(name="Nueva SpA")  # never synced

    html = html_of(client.get(CHANGELIST))

    assert f'href="{run_url(documents)}"' in html
    assert f'href="{run_url(f29)}"' in html
    assert when_text(timezone.now() - HOUR) in html
    assert html.count(">never</span>") == 2  # Nueva SpA's two kinds


def test_the_list_asks_the_same_number_of_queries_however_many_runs_are_listed(client, superuser):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            html_of(client.get(CHANGELIST))
        return len(queries)

    for _ in range(2):
        run(CompanyFactory(), "SUCCESS")
    few = list_queries()
    for _ in range(8):
        company = CompanyFactory()
        run(company, "FAILURE")
        run(company, "SUCCESS", task_type="sii.sync_f29")

    assert list_queries() == few


def test_the_company_page_shows_the_last_sync_per_kind_and_the_last_error_in_words(client, superuser):
    company = CompanyFactory()
    failed = run(company, "FAILURE", ago=2 * HOUR, error="getResumen: HTTP 503 from the SII.")
    last = publish_failed(run(company, None, ago=HOUR), "Connection refused")

    html = html_of(client.get(company_url(company)))

    assert "Last sync runs" in html
    assert f'href="{run_url(last)}"' in html
    assert "Failed to launch task: Connection refused" in html  # the newest failure, a publish
    assert f'href="{run_url(failed)}"' in html
    assert "F29: " in html
    assert ">never</span>" in html


def test_the_company_page_lists_its_last_ten_runs_and_links_to_all_of_them(client, superuser):
    company = CompanyFactory()
    runs = [run(company, "SUCCESS", ago=hours * HOUR) for hours in range(1, 13)]  # newest first
    other = run(CompanyFactory(), "SUCCESS")

    html = html_of(client.get(company_url(company)))

    shown = [launch for launch in runs if f'href="{run_url(launch)}"' in html]
    assert shown == runs[:10]
    assert run_url(other) not in html
    all_runs = f"{reverse('admin:tasks_api_tasklaunch_changelist')}?subject_id={company.pk}"
    assert f'href="{all_runs}"' in html
    listed = client.get(all_runs).context["cl"].result_list
    assert {launch.task_id for launch in listed} == {launch.task_id for launch in runs}


def test_a_company_without_runs_says_so_on_its_page(client, superuser):
    html = html_of(client.get(company_url(CompanyFactory())))

    assert "No run yet." in html
    assert "No failed sync" in html


# The companies whose last sync failed


def test_failing_companies_are_those_whose_most_recent_sync_failed_newest_first():
    recovered, relapsed, f29_only, retrying, fine = (CompanyFactory() for _ in range(5))
    run(recovered, "FAILURE", ago=2 * HOUR)
    run(recovered, "SUCCESS", task_type="sii.sync_f29", ago=HOUR)
    run(relapsed, "SUCCESS", ago=3 * HOUR)
    relapsed_run = run(relapsed, "FAILURE", ago=2 * HOUR)
    f29_run = run(f29_only, "FAILURE", task_type="sii.sync_f29", ago=HOUR)
    run(retrying, "FAILURE", ago=2 * HOUR)
    run(retrying, None, ago=HOUR)  # launched again, still pending
    run(fine, "SUCCESS")

    failing = selectors.companies_failing(limit=10)

    assert [(row.company, row.run.task_id) for row in failing.top] == [
        (f29_only, f29_run.task_id),
        (relapsed, relapsed_run.task_id),
    ]
    assert failing.top[0].error == BAD_CLAVE
    assert failing.total == 2


def test_failing_companies_are_bounded_and_counted():
    for _ in range(4):
        run(CompanyFactory(), "FAILURE")

    failing = selectors.companies_failing(limit=3)

    assert len(failing.top) == 3
    assert failing.total == 4


def test_failing_companies_take_three_queries_however_many_companies_fail(django_assert_num_queries):
    for _ in range(12):
        run(CompanyFactory(), "FAILURE")
    publish_failed(run(CompanyFactory(), None, ago=HOUR / 2), "Connection refused")

    with django_assert_num_queries(3):
        failing = selectors.companies_failing(limit=10)

    assert failing.top[0].error == "Failed to launch task: Connection refused"
    assert failing.total == 13


def test_the_dashboard_section_links_each_failing_company_its_run_and_the_full_list(superuser):
    company = CompanyFactory(name="Ferretería Sur SpA")
    failed = run(company, "FAILURE")
    request = RequestFactory().get("/admin/")
    request.user = superuser

    html = failing_companies(request)

    assert f'href="{company_url(company)}"' in html
    assert f'href="{run_url(failed)}"' in html
    assert escape(BAD_CLAVE) in html
    assert f'href="{CHANGELIST}?last_sync=failed"' in html
    assert "The company whose last sync failed" in html


def test_the_dashboard_section_says_when_no_company_s_last_sync_failed(superuser):
    run(CompanyFactory(), "SUCCESS")
    request = RequestFactory().get("/admin/")
    request.user = superuser

    assert "No company's last sync failed." in failing_companies(request)


def test_the_dashboard_section_is_empty_for_staff_who_may_see_neither_companies_nor_runs():
    run(CompanyFactory(), "FAILURE")
    request = RequestFactory().get("/admin/")
    request.user = staff_with("view_purchasedocument")

    assert failing_companies(request) == ""


def test_the_full_list_filters_the_companies_whose_last_sync_failed(client, superuser):
    failing = CompanyFactory()
    run(failing, "FAILURE")
    run(CompanyFactory(), "SUCCESS")

    response = client.get(CHANGELIST, {"last_sync": "failed"})

    assert list(response.context["cl"].result_list) == [failing]


# The launch form's company picker


def test_the_launch_form_renders_a_picker_without_listing_the_companies(client, superuser):
    companies = CompanyFactory.create_batch(30)

    with CaptureQueriesContext(connection) as queries:
        html = html_of(client.get(LAUNCH_DOCUMENTS))

    assert f'data-ajax--url="{PICK}"' in html
    assert 'name="company_id"' in html
    assert not any(str(company.pk) in html for company in companies)
    assert len(queries) < 10


def test_the_picker_finds_companies_by_name_or_rut_and_answers_their_uuid(client, superuser):
    wanted = CompanyFactory(name="Panadería La Espiga", rut_body=76086428, rut_dv="5")
    CompanyFactory.create_batch(3)

    for term in ("espiga", "76.086.428-5", "76086428"):
        answer = client.get(PICK, {"term": term, **picker_params()}).json()
        assert answer["results"] == [{"id": str(wanted.pk), "text": "Panadería La Espiga (76.086.428-5)"}]


def test_the_picker_answers_a_page_at_a_time_in_a_bounded_number_of_queries(client, superuser):
    CompanyFactory.create_batch(45)  # "Empresa <n> SpA"

    with CaptureQueriesContext(connection) as queries:
        answer = client.get(PICK, {"term": "Empresa", **picker_params()}).json()

    assert len(answer["results"]) == 20
    assert answer["pagination"] == {"more": True}
    assert len(queries) < 10


def test_operators_who_may_launch_may_pick_companies_and_other_staff_may_not(client):
    CompanyFactory(name="Demo SpA")
    client.force_login(staff_with("view_tasklaunch", "launch_task"))
    assert client.get(PICK, {"term": "Demo", **picker_params()}).status_code == 200

    client.force_login(staff_with("view_tasklaunch"))
    assert client.get(PICK, {"term": "Demo", **picker_params()}).status_code == 403


def test_the_picked_company_is_launched_as_its_uuid_text(
    client, superuser, django_capture_on_commit_callbacks
):
    company = CompanyFactory()

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(LAUNCH_DOCUMENTS, {"company_id": str(company.pk), "months": "2"})

    assert response.status_code == 302
    assert TaskLaunch.objects.get().params == {"company_id": str(company.pk), "months": 2, "month_offset": 0}


@pytest.mark.parametrize("value", ["not-a-uuid", "123e4567-e89b-12d3-a456-000000000000", ""])
def test_a_wrong_company_is_refused_in_the_api_s_words_without_a_500(client, superuser, value):
    response = client.post(LAUNCH_DOCUMENTS, {"company_id": value, "months": "1"})

    assert response.status_code == 200
    assert response.context["form"].errors  # the serializer's sentence, on the field or the form
    assert not TaskLaunch.objects.exists()


def picker_params() -> dict:
    return {"app_label": "sii", "model_name": "subscription", "field_name": "company"}


# The sync buttons on a company's page


def test_the_company_page_offers_the_sync_buttons_to_those_who_may_launch(client, superuser):
    company = CompanyFactory()

    html = html_of(client.get(company_url(company)))

    assert f"{company_url(company).removesuffix('change/')}sync-documents/" in html
    assert f"{company_url(company).removesuffix('change/')}sync-f29/" in html


def test_a_sync_button_asks_first_then_launches_and_returns_to_the_page(
    client, superuser, django_capture_on_commit_callbacks
):
    company = CompanyFactory()
    url = f"{company_url(company).removesuffix('change/')}sync-f29/"

    assert "Sync now" in html_of(client.get(url))
    assert not TaskLaunch.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, {"_form_submitted": "on"}, headers={"HX-Request": "true"})

    launch = TaskLaunch.objects.get()
    assert (launch.task_type, launch.params["company_id"]) == ("sii.sync_f29", str(company.pk))
    assert response["HX-Redirect"] == company_url(company)
    [message] = get_messages(response.wsgi_request)
    assert run_url(launch) in str(message)


def test_a_sync_button_skips_a_company_whose_clave_was_rejected_and_says_why(
    client, superuser, django_capture_on_commit_callbacks
):
    company = CompanyFactory(name="Rechazada SpA", sii_password_rejected_at=timezone.now())
    url = f"{company_url(company).removesuffix('change/')}sync-documents/"

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, {"_form_submitted": "on"})

    assert response.status_code == 302
    assert not TaskLaunch.objects.exists()
    [message] = get_messages(response.wsgi_request)
    assert str(message) == "Skipped (the SII rejected the clave; change it first): Rechazada SpA"


def test_staff_who_may_not_launch_get_no_sync_button_and_a_403(client):
    company = CompanyFactory()
    client.force_login(staff_with("view_company", "change_company"))
    url = f"{company_url(company).removesuffix('change/')}sync-documents/"

    assert "sync-documents/" not in html_of(client.get(company_url(company)))
    assert client.post(url, {"_form_submitted": "on"}).status_code == 403
    assert not TaskLaunch.objects.exists()


def test_a_sync_button_for_an_unknown_company_answers_404(client, superuser):
    url = reverse("admin:sii_company_changelist") + "123e4567-e89b-12d3-a456-000000000000/sync-documents/"

    assert client.post(url, {"_form_submitted": "on"}).status_code == 404
    assert not Company.objects.exists()
