"""A company's SII session is kept between syncs (encrypted), reused until it expires or the SII
refuses it, and dropped with a refused clave or a new one."""

from datetime import timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone

from sii.client.errors import SiiBadCredentials
from sii.client.sessions import cookies_export, cookies_import
from sii.models import Company
from sii.services.clients import sii_client_for
from sii.services.documents import documents_sync
from sii.services.f29 import f29_sync
from tests.factories import CompanyFactory

LOGIN, LOGOUT = "CAutInicio.cgi", "autTermino.cgi"


@pytest.fixture
def simulator(served_simulator, settings):
    """The simulator on a socket, reached through sii_client_for as the tasks reach it."""
    simulator, url = served_simulator
    simulator.reset()
    settings.SII_BASE_URLS = dict.fromkeys(("auth", "rcv", "bhe"), url)
    yield simulator
    simulator.reset()


def _sync(company: Company) -> None:
    company.refresh_from_db()
    documents_sync(company=company, client=sii_client_for(company))


@pytest.mark.django_db
def test_two_syncs_of_a_company_log_in_once_and_keep_the_session(simulator):
    company = CompanyFactory()

    _sync(company)
    company.refresh_from_db()
    f29_sync(company=company, year="2025", client=sii_client_for(company))

    assert simulator.requests_to(LOGIN) == 1
    assert simulator.requests_to(LOGOUT) == 0


@pytest.mark.django_db
def test_the_kept_session_is_stored_encrypted(simulator):
    company = CompanyFactory()
    _sync(company)
    company.refresh_from_db()

    tokens = [value for name, value, *_ in company.sii_session() if name == "TOKEN"]
    assert len(tokens) == 1
    assert tokens[0] not in company.sii_session_encrypted
    assert company.sii_session_expires_at > timezone.now() + timedelta(minutes=89)


@pytest.mark.django_db
def test_a_session_past_its_age_is_not_reused(simulator, settings):
    company = CompanyFactory()
    _sync(company)

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SII_SESSION_MAX_AGE + 1)):
        _sync(company)

    assert simulator.requests_to(LOGIN) == 2


@pytest.mark.django_db
def test_a_session_the_sii_no_longer_accepts_is_replaced_by_one_new_login(simulator):
    company = CompanyFactory()
    _sync(company)
    company.refresh_from_db()
    before = company.sii_session()
    simulator.state.expire_sessions()

    _sync(company)
    company.refresh_from_db()

    assert simulator.requests_to(LOGIN) == 2
    assert company.sii_session() != before
    _sync(company)
    assert simulator.requests_to(LOGIN) == 2


@pytest.mark.django_db
def test_a_refused_clave_drops_the_kept_session(simulator):
    company = CompanyFactory()
    _sync(company)
    company.refresh_from_db()
    simulator.state.expire_sessions()
    simulator.faults.add(LOGIN, "bad_credentials")

    with pytest.raises(SiiBadCredentials):
        _sync(company)

    company.refresh_from_db()
    assert company.sii_session() is None
    assert company.sii_session_encrypted == ""


@pytest.mark.django_db
def test_a_new_clave_starts_without_the_old_session(simulator):
    company = CompanyFactory()
    _sync(company)
    company.refresh_from_db()

    company.set_sii_password("a-new-clave")
    company.save()

    assert company.sii_session() is None
    _sync(company)
    assert simulator.requests_to(LOGIN) == 2


@pytest.mark.django_db
def test_with_no_session_age_each_sync_logs_in_and_out(simulator, settings):
    settings.SII_SESSION_MAX_AGE = 0
    company = CompanyFactory()

    _sync(company)
    _sync(company)

    assert (simulator.requests_to(LOGIN), simulator.requests_to(LOGOUT)) == (2, 2)
    company.refresh_from_db()
    assert company.sii_session_encrypted == ""


def test_cookies_the_sii_set_on_its_domain_reach_every_surface_after_an_import():
    """sii.cl sets its session cookies on .sii.cl; a later client sends them to www4 and loa too."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host} {request.headers.get('cookie', '')}")
        return httpx.Response(200)

    first = httpx.Client(transport=httpx.MockTransport(answer))
    first.cookies.set("TOKEN", "ABC123", domain=".sii.cl", path="/")
    later = httpx.Client(transport=httpx.MockTransport(answer))

    cookies_import(later.cookies, cookies_export(first.cookies))
    later.get("https://www4.sii.cl/consdcvinternetui/")
    later.get("https://loa.sii.cl/cgi_IMT/x.cgi")
    later.get("https://example.org/")

    assert seen == ["www4.sii.cl TOKEN=ABC123", "loa.sii.cl TOKEN=ABC123", "example.org "]
