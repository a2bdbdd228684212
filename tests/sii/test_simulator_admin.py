"""The admin's SII simulator page: the fault kinds, setting one for a company and clearing them over the
simulator's control endpoint; only with the launch permission, and only while the simulator is in use."""

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from sii.simulator.faults import KINDS
from tests.factories import CompanyFactory, UserFactory
from tests.processes import free_port

pytestmark = pytest.mark.django_db
URL = reverse("admin:sii_simulator_faults")


@pytest.fixture
def simulator(live_simulator, served_simulator, settings):
    """The served simulator, where the admin's control requests go."""
    settings.SII_SIMULATOR_URL = served_simulator[1]
    return live_simulator


@pytest.fixture
def andes():
    return CompanyFactory(name="Comercial Los Andes SpA", rut_body=76086428)


def set_fault(client, **fields):
    return client.post(URL, {"action": "set", "times": "1", **fields})


def test_the_page_lists_every_fault_kind_with_what_it_does(client, superuser, simulator):
    page = client.get(URL).content.decode()

    for name, kind in KINDS.items():
        assert f"<code>{name}" in page
        assert kind.what.split(":")[0].replace("'", "&#x27;") in page
    assert "None: the simulator answers normally." in page


def test_a_fault_set_for_a_company_found_by_rut_reaches_the_simulator(client, superuser, simulator, andes):
    response = set_fault(client, company="76.086.428-5", kind="http", argument="503", path="getResumen")

    assert response.status_code == 302
    assert simulator.faults.rules() == [
        {"path": "getResumen", "fault": "http:503", "times": 1, "rut": 76086428}
    ]
    page = client.get(URL).content.decode()
    assert "requests to getResumen now meet http:503, 1 time." in page
    assert "Comercial Los Andes SpA (76.086.428-5)" in page


def test_a_fault_set_by_name_without_a_target_goes_where_its_kind_usually_goes(
    client, superuser, simulator, andes
):
    set_fault(client, company="los andes", kind="bad_credentials", times="")

    assert simulator.faults.rules() == [
        {"path": "CAutInicio.cgi", "fault": "bad_credentials", "times": None, "rut": 76086428}
    ]


def test_the_fault_fires_on_the_company_s_login_only(client, superuser, simulator, served_simulator, andes):
    other = CompanyFactory()
    set_fault(client, company=andes.rut_formatted, kind="bad_credentials")

    def log_in(company) -> int:
        form = {"rut": str(company.rut_body), "dv": company.rut_dv, "clave": "x"}
        return httpx.post(f"{served_simulator[1]}/cgi_AUT2000/CAutInicio.cgi", data=form).status_code

    assert (log_in(other), log_in(andes), log_in(andes)) == (302, 200, 302)  # refused once, as set


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"company": "Nadie SpA", "kind": "reset"}, "No company&#x27;s name or RUT matches"),
        ({"company": "Empresa", "kind": "reset"}, "Several companies match"),
        ({"company": "76086428", "kind": "http", "argument": "soon"}, "needs a number after"),
        ({"company": "76086428", "kind": "nope"}, "Select a valid choice"),
    ],
)
def test_a_refused_fault_says_why_and_sends_nothing(client, superuser, simulator, andes, fields, message):
    CompanyFactory.create_batch(2)

    response = set_fault(client, **fields)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert simulator.faults.rules() == []


def test_clearing_one_company_s_faults_keeps_the_others(client, superuser, simulator, andes):
    other = CompanyFactory()
    simulator.faults.add("getResumen", "reset", rut=andes.rut_body)
    simulator.faults.add("getResumen", "reset", rut=other.rut_body)

    client.post(URL, {"action": "clear", "company_id": str(andes.pk)})

    assert [rule["rut"] for rule in simulator.faults.rules()] == [other.rut_body]
    client.post(URL, {"action": "clear"})
    assert simulator.faults.rules() == []


def test_staff_without_the_launch_permission_see_the_kinds_but_cannot_set_or_clear(client, simulator, andes):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_tasklaunch"))
    client.force_login(viewer)
    simulator.faults.add("getResumen", "reset", rut=andes.rut_body)

    page = client.get(URL).content.decode()

    assert "<code>bad_credentials" in page
    assert 'id="simulator-fault-form"' not in page
    assert set_fault(client, company="76086428", kind="reset").status_code == 403
    assert client.post(URL, {"action": "clear"}).status_code == 403
    assert len(simulator.faults.rules()) == 1


def test_the_page_needs_a_staff_login(client, simulator):
    assert client.get(URL).status_code == 302


def test_the_page_is_absent_when_the_sii_is_live(client, superuser, simulator, settings):
    settings.SII_MODE = "live"

    assert client.get(URL).status_code == 404
    assert set_fault(client, company="76086428", kind="reset").status_code == 404


def test_a_simulator_that_does_not_answer_is_said_so_not_a_500(client, superuser, settings, andes):
    settings.SII_SIMULATOR_URL = f"http://127.0.0.1:{free_port()}"

    page = client.get(URL)
    refused = set_fault(client, company="76086428", kind="reset")

    assert page.status_code == refused.status_code == 200
    assert "does not answer" in page.content.decode()
    assert "does not answer" in refused.content.decode()


# The control endpoint the page talks to


def test_the_control_endpoint_lists_faults_and_clears_one_company_s(served_simulator, live_simulator):
    with httpx.Client(base_url=served_simulator[1]) as http:
        http.post("/__sim__/faults", json={"path": "getResumen", "fault": "http:503", "rut": "76086428-5"})
        http.post("/__sim__/faults", json={"path": "/cgi_IMT/", "fault": "bhe_count:250", "times": None})

        assert http.get("/__sim__/faults").json()["faults"] == [
            {"path": "getResumen", "fault": "http:503", "times": 1, "rut": 76086428},
            {"path": "/cgi_IMT/", "fault": "bhe_count:250", "times": None, "rut": None},
        ]
        assert http.delete("/__sim__/faults", params={"rut": "76086428"}).json() == {"ok": True, "faults": 1}
        assert http.delete("/__sim__/faults", params={"rut": "x"}).status_code == 400
        assert http.delete("/__sim__/faults").json() == {"ok": True, "faults": 0}
