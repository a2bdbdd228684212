"""The sii admin: companies (RUT spellings, write-only password, sync actions) and read-only rows."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from sii import selectors
from sii.models import Company
from sii.services.periods import current_year
from tasks_api.models import TaskLaunch
from tests.factories import (
    CompanyFactory,
    F29DeclarationFactory,
    FeeReceiptFactory,
    PurchaseDocumentFactory,
    RcvSummaryFactory,
    SaleDocumentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:sii_company_changelist"
NO_INLINES = {"subscriptions-TOTAL_FORMS": "0", "subscriptions-INITIAL_FORMS": "0"}
DOCUMENT_FACTORIES = [
    PurchaseDocumentFactory,
    SaleDocumentFactory,
    RcvSummaryFactory,
    FeeReceiptFactory,
    F29DeclarationFactory,
]


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def console(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def clerk_console(client):
    """A staff user who may edit companies and read rows, but not launch tasks."""
    codenames = ["view_company", "change_company", "view_purchasedocument", "view_f29declaration"]
    client.force_login(staff_with(*codenames))
    return client


def company_url(company, view: str = "change") -> str:
    return reverse(f"admin:sii_company_{view}", args=[company.pk])


def run_action(client, action: str, *companies):
    data = {"action": action, "_selected_action": [str(company.pk) for company in companies]}
    return client.post(reverse(CHANGELIST), data)


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


# Companies: list and search


def test_company_list_shows_the_formatted_rut_and_never_the_stored_password(console):
    company = CompanyFactory(rut_body=76086428, rut_dv="5", subscribed=True)

    html = console.get(reverse(CHANGELIST)).content.decode()

    assert "76.086.428-5" in html
    assert company.sii_password_encrypted not in html


@pytest.mark.parametrize("term", ["76.086.428-5", "76086428-5", "76086428", "760864285", "76.086.428"])
def test_company_search_accepts_any_rut_spelling(console, term):
    wanted = CompanyFactory(rut_body=76086428, rut_dv="5")
    CompanyFactory(name="Otra SpA")

    response = console.get(reverse(CHANGELIST), {"q": term})

    assert list(response.context["cl"].result_list) == [wanted]


def test_company_search_still_matches_names(console):
    wanted = CompanyFactory(name="Panadería La Espiga")
    CompanyFactory(name="Otra SpA")

    response = console.get(reverse(CHANGELIST), {"q": "espiga"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_active_subscription_filter_keeps_only_subscribed_companies(console):
    subscribed = CompanyFactory(subscribed=True)
    CompanyFactory()

    response = console.get(reverse(CHANGELIST), {"subscription_active": "yes"})

    assert list(response.context["cl"].result_list) == [subscribed]


def test_company_list_queries_do_not_grow_with_the_rows(console):
    CompanyFactory.create_batch(2, subscribed=True)
    with CaptureQueriesContext(connection) as few:
        console.get(reverse(CHANGELIST))
    CompanyFactory.create_batch(5, subscribed=True)
    with CaptureQueriesContext(connection) as many:
        console.get(reverse(CHANGELIST))

    assert len(many) == len(few)


def test_view_only_staff_sees_a_company_without_any_password_field(client):
    company = CompanyFactory()
    client.force_login(staff_with("view_company"))

    html = client.get(company_url(company)).content.decode()

    assert company.rut_formatted in html
    assert "sii_password" not in html
    assert company.sii_password_encrypted not in html


# Companies: the form


def test_adding_a_company_parses_the_rut_and_stores_the_password_encrypted(console):
    data = {"name": "Austral SpA", "rut": "76086428-5", "sii_password": "clave-9f3", **NO_INLINES}

    response = console.post(reverse("admin:sii_company_add"), data)

    assert response.status_code == 302
    company = Company.objects.get(name="Austral SpA")
    assert (company.rut_body, company.rut_dv) == (76086428, "5")
    assert company.get_sii_password() == "clave-9f3"
    pages = [company_url(company), company_url(company, "history"), company_url(company, "delete")]
    html = "".join(console.get(page).content.decode() for page in pages)
    assert "76.086.428-5" in html
    assert "clave-9f3" not in html
    assert company.sii_password_encrypted not in html


def test_a_company_may_be_added_without_a_password(console):
    data = {"name": "Sin Clave SpA", "rut": "76.086.428-5", "sii_password": "", **NO_INLINES}

    console.post(reverse("admin:sii_company_add"), data)

    assert not Company.objects.get(name="Sin Clave SpA").has_sii_credentials


def test_a_wrong_check_digit_is_shown_as_a_form_error(console):
    data = {"name": "Austral SpA", "rut": "76.086.428-4", "sii_password": "", **NO_INLINES}

    response = console.post(reverse("admin:sii_company_add"), data)

    assert response.status_code == 200
    expected = "'76.086.428-4' has a wrong check digit (expected 5)."
    assert response.context["adminform"].form.errors["rut"] == [expected]
    assert escape(expected) in response.content.decode()
    assert not Company.objects.exists()


def test_a_rut_already_taken_is_a_form_error(console):
    CompanyFactory(rut_body=76086428, rut_dv="5")
    data = {"name": "Copia SpA", "rut": "76086428-5", "sii_password": "", **NO_INLINES}

    response = console.post(reverse("admin:sii_company_add"), data)

    assert response.context["adminform"].form.errors["rut"] == [
        "A company with RUT 76.086.428-5 already exists."
    ]


def test_editing_with_an_empty_password_keeps_the_stored_one(console):
    company = CompanyFactory(name="Antes SpA")
    stored = company.sii_password_encrypted
    data = {"name": "Después SpA", "rut": company.rut_formatted, "sii_password": "", **NO_INLINES}

    response = console.post(company_url(company), data)

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.name == "Después SpA"
    assert company.sii_password_encrypted == stored


def test_editing_with_a_new_password_replaces_the_stored_one(console):
    company = CompanyFactory()
    data = {"name": company.name, "rut": str(company.rut), "sii_password": "nueva-clave", **NO_INLINES}

    console.post(company_url(company), data)

    company.refresh_from_db()
    assert company.get_sii_password() == "nueva-clave"


def test_company_page_counts_the_synced_rows(console):
    company = CompanyFactory()
    PurchaseDocumentFactory.create_batch(2, company=company)
    F29DeclarationFactory(company=company)

    html = console.get(company_url(company)).content.decode()

    assert "purchases: 2" in html
    assert "sales: 0" in html
    assert "F29 declarations: 1" in html


def test_document_counts_take_one_query_per_model(django_assert_num_queries):
    company = CompanyFactory()
    SaleDocumentFactory.create_batch(3, company=company)

    with django_assert_num_queries(len(selectors.SYNCED_MODELS)):
        counts = selectors.company_document_counts(company=company)

    assert counts["sales"] == 3


# Companies: sync actions


def test_sync_documents_action_launches_with_the_catalog_defaults(
    console, superuser, django_capture_on_commit_callbacks
):
    company = CompanyFactory()

    with django_capture_on_commit_callbacks(execute=False):
        response = run_action(console, "sync_documents_now", company)

    launch = TaskLaunch.objects.get()
    assert launch.task_type == "sii.sync_documents"
    assert launch.params == {"company_id": str(company.pk), "months": 1, "month_offset": 0}
    assert (launch.launched_by, launch.user) == ("user", superuser)
    [(level, text)] = messages_of(response)
    assert level == "success"
    assert reverse("admin:tasks_api_tasklaunch_change", args=[launch.task_id]) in text
    assert company.name in text


def test_sync_f29_action_launches_for_the_current_year(console, django_capture_on_commit_callbacks):
    companies = CompanyFactory.create_batch(2)

    with django_capture_on_commit_callbacks(execute=False):
        response = run_action(console, "sync_f29_now", *companies)

    launches = TaskLaunch.objects.filter(task_type="sii.sync_f29")
    assert {launch.params["company_id"] for launch in launches} == {str(c.pk) for c in companies}
    assert {launch.params["year"] for launch in launches} == {current_year()}
    [(_, text)] = messages_of(response)
    assert all(launch.task_id in text for launch in launches)


def test_companies_without_credentials_are_skipped_with_a_warning(
    console, django_capture_on_commit_callbacks
):
    ready = CompanyFactory()
    bare = CompanyFactory(name="Sin Clave SpA", without_credentials=True)

    with django_capture_on_commit_callbacks(execute=False):
        response = run_action(console, "sync_documents_now", ready, bare)

    assert [launch.params["company_id"] for launch in TaskLaunch.objects.all()] == [str(ready.pk)]
    assert ("warning", "Skipped (no SII credentials): Sin Clave SpA") in messages_of(response)


@pytest.mark.django_db(transaction=True)  # publishing happens on commit; here, at once
def test_a_broker_failure_shows_an_error_instead_of_a_500(console, unreachable_broker):
    first, second = CompanyFactory(name="A SpA"), CompanyFactory(name="B SpA")

    response = run_action(console, "sync_documents_now", first, second)

    assert response.status_code == 302
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Failed to launch task: ")
    assert text.endswith("(for A SpA; 1 more not attempted)")
    assert TaskLaunch.objects.get().enqueued is False


def test_staff_without_launch_permission_can_neither_see_nor_run_the_sync_actions(
    clerk_console, django_capture_on_commit_callbacks
):
    company = CompanyFactory()

    html = clerk_console.get(reverse(CHANGELIST)).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        run_action(clerk_console, "sync_documents_now", company)

    assert "sync_documents_now" not in html
    assert not TaskLaunch.objects.exists()


def test_staff_with_launch_permission_sees_the_sync_actions(client):
    CompanyFactory()  # the action bar only shows above rows
    client.force_login(staff_with("view_company", "launch_task"))

    html = client.get(reverse(CHANGELIST)).content.decode()

    assert "sync_documents_now" in html
    assert "sync_f29_now" in html


# Synced rows: read-only browsing


@pytest.mark.parametrize("factory", DOCUMENT_FACTORIES, ids=lambda f: f._meta.model.__name__)
def test_synced_rows_are_read_only_and_show_the_raw_row(console, factory):
    row = factory(raw={"detRznSoc": "Ñandú & Cía <Ltda>", "detNroDoc": 7})
    name = row._meta.model_name
    change_url = reverse(f"admin:sii_{name}_change", args=[row.pk])

    listing = console.get(reverse(f"admin:sii_{name}_changelist"))
    detail = console.get(change_url)
    refused = console.post(change_url, {"period": "209912"})

    assert listing.status_code == 200
    assert not listing.context["has_add_permission"]
    assert refused.status_code == 403
    row.refresh_from_db()  # jsonb keeps its own key order
    pretty = json.dumps(row.raw, indent=2, ensure_ascii=False)
    assert f"<pre>{escape(pretty)}</pre>" in detail.content.decode()


def test_purchases_can_be_found_by_counterparty_rut_in_any_spelling(console):
    wanted = PurchaseDocumentFactory(counterparty_rut=76086428, counterparty_dv="5")
    PurchaseDocumentFactory(counterparty_rut=12345678, counterparty_dv="5")
    url = reverse("admin:sii_purchasedocument_changelist")

    for term in ("76.086.428-5", "76086428"):
        assert list(console.get(url, {"q": term}).context["cl"].result_list) == [wanted]


def test_issued_fee_receipts_show_their_receptor_and_are_found_by_its_rut(console):
    issued = FeeReceiptFactory(
        direction="EMITIDA",
        receptor_rut=96806980,
        receptor_dv="2",
        receptor_name="Cliente Grande SpA",
        retencion_emisor=0,
    )
    FeeReceiptFactory()  # a received one: no receptor
    url = reverse("admin:sii_feereceipt_changelist")

    page = console.get(url).content.decode()
    assert "96.806.980-2" in page
    assert "Cliente Grande SpA" in page
    assert list(console.get(url, {"q": "96.806.980-2"}).context["cl"].result_list) == [issued]


def test_purchases_can_be_found_by_folio_and_show_chilean_amounts(console):
    wanted = PurchaseDocumentFactory(folio=4321, monto_total=1_190_000)
    PurchaseDocumentFactory(folio=999)

    response = console.get(reverse("admin:sii_purchasedocument_changelist"), {"q": "4321"})

    assert list(response.context["cl"].result_list) == [wanted]
    assert "1.190.000" in response.content.decode()


def test_staff_with_view_permission_browses_rows_but_not_others(clerk_console):
    PurchaseDocumentFactory()

    assert clerk_console.get(reverse("admin:sii_purchasedocument_changelist")).status_code == 200
    assert clerk_console.get(reverse("admin:sii_saledocument_changelist")).status_code == 403
