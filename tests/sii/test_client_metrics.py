"""What /metrics says of the SII client's calls: an outcome per call, its content included."""

import pytest

from sii.client.errors import SiiBadCredentials, SiiUnavailable
from tasks_api.metrics import metrics_flush
from tests.metrics import scrape, value

pytestmark = pytest.mark.django_db
LOGIN = "CAutInicio.cgi"
PERIOD = "202409"


@pytest.fixture
def calls(client, metrics_on):
    """How many calls to `endpoint` /metrics counts with `outcome`, flushed first."""

    def count(endpoint: str, outcome: str) -> float:
        metrics_flush()
        return value(scrape(client), "sii_requests_total", endpoint=endpoint, outcome=outcome)

    return count


def test_a_refused_clave_is_a_login_with_bad_credentials(make_client, sim, company_rut, calls):
    sim.register_credentials(str(company_rut), "the-real-one")
    before = calls("login", "bad_credentials")

    with pytest.raises(SiiBadCredentials):
        make_client().login()

    assert calls("login", "bad_credentials") == before + 1


def test_the_sii_s_unavailable_page_is_counted_as_unavailable_though_it_answers_200(sii_client, sim, calls):
    sim.faults.add(LOGIN, "sii_unavailable")
    before = calls("login", "unavailable"), calls("login", "ok")

    with pytest.raises(SiiUnavailable):
        sii_client.login()

    assert (calls("login", "unavailable"), calls("login", "ok")) == (before[0] + 1, before[1])


def test_a_login_wall_is_a_lost_session_and_the_call_after_the_new_login_is_ok(sii_client, sim, calls):
    sii_client.login()
    sim.faults.add("getResumen", "session_expired")
    before = calls("getResumen", "session_lost"), calls("getResumen", "ok"), calls("login", "ok")

    sii_client.rcv_resumen(period=PERIOD, operacion="COMPRA")

    after = calls("getResumen", "session_lost"), calls("getResumen", "ok"), calls("login", "ok")
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)
