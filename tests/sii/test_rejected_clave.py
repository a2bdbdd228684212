"""A clave the SII rejected: recorded once, every later sync refused before any request, until it changes."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from sii import crypto
from sii.admin.columns import when_text
from sii.client.errors import SiiBadCredentials, SiiUnavailable
from sii.forms import CompanyAdminForm
from sii.models import Company
from sii.selectors import company_ids_with_active_subscription, company_ids_with_sii_credentials
from sii.services.credentials import CompanyClaveRejected
from sii.services.documents import documents_sync
from sii.services.locks import company_sync_session
from tests.factories import SIMULATOR_CLAVE, CompanyFactory

pytestmark = pytest.mark.django_db

SANTIAGO = ZoneInfo("America/Santiago")
REJECTED_AT = datetime.datetime(2026, 11, 28, 14, 3, tzinfo=SANTIAGO)
MESSAGE = "The SII rejected this company's clave on 2026-11-28 14:03; update it in the admin to sync again"
NO_INLINES = {"subscriptions-TOTAL_FORMS": "0", "subscriptions-INITIAL_FORMS": "0"}


def with_wrong_clave(**fields) -> Company:
    return CompanyFactory(sii_password_encrypted=crypto.encrypt("wrong"), **fields)


def rejected(**fields) -> Company:
    return CompanyFactory(**{"sii_password_rejected_at": REJECTED_AT, **fields})


def sync(company, client_for) -> dict:
    """What sii.sync_documents does, over the in-process simulator with the stored clave."""
    with company_sync_session(company=company, holder="task-1"):
        client = client_for(company, password=company.get_sii_password())
        return documents_sync(company=company, client=client)


def stored(company) -> Company:
    return Company.objects.get(pk=company.pk)


# The sync services


def test_bad_credentials_during_a_sync_are_recorded_after_a_single_login(client_for, simulator):
    company = with_wrong_clave()

    with pytest.raises(SiiBadCredentials):
        sync(company, client_for)

    assert simulator.requests_to("CAutInicio.cgi") == 1
    rejected_at = stored(company).sii_password_rejected_at
    assert rejected_at is not None
    assert timezone.now() - rejected_at < datetime.timedelta(minutes=1)
    assert stored(company).sync_lock_holder == ""  # released


def test_a_company_whose_clave_was_rejected_is_refused_before_any_request(client_for, simulator):
    company = rejected()

    with pytest.raises(CompanyClaveRejected) as refused:
        sync(company, client_for)

    assert str(refused.value) == MESSAGE
    assert simulator.requests_to("/") == 0
    assert stored(company).sync_lock_holder == ""  # refused without taking the lock


def test_the_refusal_says_when_in_chilean_time():
    company = rejected(sii_password_rejected_at=REJECTED_AT.astimezone(datetime.UTC))

    with (
        pytest.raises(CompanyClaveRejected, match="on 2026-11-28 14:03;"),
        company_sync_session(company=company, holder="task-1"),
    ):
        pytest.fail("synced with a rejected clave")


def test_a_rejection_recorded_while_a_sync_waited_for_the_lock_refuses_it(client_for, simulator):
    company = CompanyFactory()  # as the waiting sync loaded it, before another sync's rejection
    Company.objects.filter(pk=company.pk).update(sii_password_rejected_at=REJECTED_AT)

    with pytest.raises(CompanyClaveRejected, match="update it in the admin"):
        sync(company, client_for)

    assert simulator.requests_to("/") == 0
    assert stored(company).sync_lock_holder == ""


def test_a_new_clave_stored_while_a_sync_waited_is_the_one_it_logs_in_with(client_for, simulator):
    company = with_wrong_clave()
    fixed = stored(company)
    fixed.set_sii_password(SIMULATOR_CLAVE)
    fixed.save()

    result = sync(company, client_for)

    assert result["success"] is True
    assert stored(company).sii_password_rejected_at is None


def test_other_sii_errors_do_not_reject_the_clave():
    company = CompanyFactory()

    with pytest.raises(SiiUnavailable), company_sync_session(company=company, holder="task-1"):
        raise SiiUnavailable("getResumen: HTTP 503 from the SII.")

    assert stored(company).sii_password_rejected_at is None


def test_a_clave_replaced_during_the_sync_is_not_marked_rejected():
    company = with_wrong_clave()

    def operator_fixes_the_clave_then_the_sii_refuses_the_old_one() -> None:
        operator = stored(company)
        operator.set_sii_password("la-correcta")
        operator.save()
        raise SiiBadCredentials("RUT o clave incorrectos")

    with pytest.raises(SiiBadCredentials), company_sync_session(company=company, holder="task-1"):
        operator_fixes_the_clave_then_the_sii_refuses_the_old_one()

    assert stored(company).sii_password_rejected_at is None
    assert stored(company).get_sii_password() == "la-correcta"


def test_storing_a_new_password_clears_the_rejection():
    company = rejected()

    company.set_sii_password("otra-clave")
    company.save()

    assert stored(company).sii_password_rejected_at is None


def test_a_sync_that_ends_well_records_that_the_sii_accepted_the_clave(client_for):
    company = CompanyFactory()

    sync(company, client_for)

    accepted_at = stored(company).sii_password_accepted_at
    assert accepted_at is not None
    assert timezone.now() - accepted_at < datetime.timedelta(minutes=1)


def test_bad_credentials_record_no_acceptance(client_for):
    company = with_wrong_clave()

    with pytest.raises(SiiBadCredentials):
        sync(company, client_for)

    assert stored(company).sii_password_accepted_at is None


def test_a_clave_replaced_during_a_sync_is_not_marked_accepted():
    company = CompanyFactory()

    with company_sync_session(company=company, holder="task-1"):
        operator = stored(company)
        operator.set_sii_password("otra-clave")
        operator.save()

    assert stored(company).sii_password_accepted_at is None


def test_storing_a_new_password_forgets_that_the_old_one_was_accepted():
    company = CompanyFactory(sii_password_accepted_at=REJECTED_AT)

    company.set_sii_password("otra-clave")
    company.save()

    assert stored(company).sii_password_accepted_at is None


# The fan-outs


def test_the_fan_outs_skip_companies_whose_clave_was_rejected_and_list_them_apart():
    usable = CompanyFactory(subscribed=True)
    refused = rejected(subscribed=True)

    assert company_ids_with_active_subscription() == [str(usable.pk)]
    assert company_ids_with_active_subscription(rejected_clave=True) == [str(refused.pk)]
    assert company_ids_with_sii_credentials() == [str(usable.pk)]
    assert company_ids_with_sii_credentials(rejected_clave=True) == [str(refused.pk)]


# The admin


def company_url(company) -> str:
    return reverse("admin:sii_company_change", args=[company.pk])


def test_the_company_list_shows_a_rejected_clave_with_the_way_to_fix_it_instead_of_a_green_tick(
    client, superuser
):
    refused = rejected(name="Rechazada SpA")
    CompanyFactory(name="Vigente SpA")

    response = client.get(reverse("admin:sii_company_changelist"))

    html = response.content.decode()
    assert f"Rejected by the SII on {when_text(REJECTED_AT)}: " in html
    assert f'href="{company_url(refused)}#id_sii_password"' in html
    assert "Never tried" in html  # Vigente's clave: stored, no sync logged in with it yet
    assert "check_circle" not in html  # nobody's clave was accepted
    assert refused.sii_password_encrypted not in html


def test_the_company_list_can_be_filtered_to_rejected_claves(client, superuser):
    refused = rejected()
    CompanyFactory()

    response = client.get(reverse("admin:sii_company_changelist"), {"clave_rejected": "yes"})

    assert list(response.context["cl"].result_list) == [refused]


def test_the_company_page_says_the_clave_was_rejected_above_the_password_field(client, superuser):
    company = rejected()

    html = client.get(company_url(company)).content.decode()

    notice = html.index(f"Rejected by the SII on {when_text(REJECTED_AT)}")
    assert notice < html.index('name="sii_password"')
    assert 'id="id_sii_password"' in html  # the anchor the notice's link points to
    assert "Enter the correct clave" in html
    assert company.sii_password_encrypted not in html
    assert 'name="sii_password" autocomplete="new-password"' in html  # no value rendered back


def test_entering_the_correct_clave_in_the_admin_clears_the_rejection(client, superuser):
    company = rejected()
    data = {"name": company.name, "rut": company.rut_formatted, "sii_password": "la-correcta", **NO_INLINES}

    response = client.post(company_url(company), data)

    assert response.status_code == 302
    assert stored(company).sii_password_rejected_at is None
    assert stored(company).get_sii_password() == "la-correcta"


def test_editing_a_company_keeps_the_lock_and_rejection_a_sync_wrote_meanwhile(
    client, superuser, monkeypatch
):
    company = CompanyFactory(name="Antes SpA")
    clean_rut = CompanyAdminForm.clean_rut

    def sync_meanwhile(form):  # a sync takes the lock and meets bad credentials while the form validates
        Company.objects.filter(pk=company.pk).update(
            sync_lock_holder="task-1", sii_password_rejected_at=REJECTED_AT, last_f29_sync_at=REJECTED_AT
        )
        return clean_rut(form)

    monkeypatch.setattr(CompanyAdminForm, "clean_rut", sync_meanwhile)
    data = {"name": "Después SpA", "rut": company.rut_formatted, "sii_password": "", **NO_INLINES}

    assert client.post(company_url(company), data).status_code == 302

    saved = stored(company)
    assert saved.name == "Después SpA"
    assert (saved.sync_lock_holder, saved.sii_password_rejected_at) == ("task-1", REJECTED_AT)
    assert saved.last_f29_sync_at == REJECTED_AT
