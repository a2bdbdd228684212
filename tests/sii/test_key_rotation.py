"""Rotating the SII credentials key: the first key encrypts, every key decrypts, rotate_sii_keys moves all."""

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.celery import app as celery_app
from sii import crypto
from sii.models import Company
from tests.conftest import redis_broker_database
from tests.factories import SIMULATOR_CLAVE, CompanyFactory
from tests.processes import WorkerProcess, manage_check, worker_env
from tests.runs import finished, launch

OLD, NEW, STRANGER = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture
def keys(settings):
    """Set the keys as an operator would in .env: `keys(NEW, OLD)` is SII_CREDENTIALS_KEY=NEW,
    SII_CREDENTIALS_OLD_KEYS=OLD."""

    def configure(current: str, *old: str) -> None:
        settings.SII_CREDENTIALS_KEY, settings.SII_CREDENTIALS_OLD_KEYS = current, list(old)

    return configure


def under(key: str, password: str = SIMULATOR_CLAVE) -> str:
    return Fernet(key).encrypt(password.encode()).decode()


def token_of(company: Company) -> str:
    return Company.objects.values_list("sii_password_encrypted", flat=True).get(pk=company.pk)


def rotate(batch_size: int = 500) -> str:
    call_command("rotate_sii_keys", batch_size=batch_size, stdout=(out := io.StringIO()))
    return out.getvalue()


def test_a_password_is_encrypted_under_the_first_key_only(keys):
    keys(NEW, OLD)

    token = crypto.encrypt("s3creta")

    assert Fernet(NEW).decrypt(token.encode()) == b"s3creta"
    with pytest.raises(InvalidToken):
        Fernet(OLD).decrypt(token.encode())


def test_a_password_an_old_key_encrypted_still_decrypts_until_that_key_is_removed(keys):
    token = under(OLD, "s3creta")
    keys(NEW, OLD)

    assert crypto.decrypt(token) == "s3creta"
    keys(NEW)
    with pytest.raises(crypto.CredentialsUnreadable, match="SII_CREDENTIALS_OLD_KEYS"):
        crypto.decrypt(token)


@pytest.mark.django_db
def test_rotate_sii_keys_re_encrypts_every_company_under_the_first_key_in_batches(keys):
    rejected_at = timezone.now()
    companies = [CompanyFactory(sii_password_encrypted=under(OLD)) for _ in range(3)]
    Company.objects.filter(pk=companies[0].pk).update(sii_password_rejected_at=rejected_at)
    updated_at = Company.objects.get(pk=companies[0].pk).updated_at
    without = CompanyFactory(without_credentials=True)
    keys(NEW, OLD)

    output = rotate(batch_size=2)

    assert "Re-encrypted 3 SII password(s) under SII_CREDENTIALS_KEY; 0 already were." in output
    keys(NEW)  # the old key removed: every clave still reads
    assert {Company.objects.get(pk=c.pk).get_sii_password() for c in companies} == {SIMULATOR_CLAVE}
    first = Company.objects.get(pk=companies[0].pk)  # a key change is no new clave, and no edit
    assert (first.sii_password_rejected_at, first.updated_at) == (rejected_at, updated_at)
    assert token_of(without) == ""


@pytest.mark.django_db
def test_rotating_again_re_encrypts_nothing(keys):
    companies = [CompanyFactory(sii_password_encrypted=under(OLD)) for _ in range(2)]
    keys(NEW, OLD)
    rotate()
    tokens = [token_of(company) for company in companies]

    output = rotate()

    assert "Re-encrypted 0 SII password(s) under SII_CREDENTIALS_KEY; 2 already were." in output
    assert [token_of(company) for company in companies] == tokens


@pytest.mark.django_db
def test_a_password_no_key_decrypts_fails_the_command_naming_it_and_the_others_are_rotated(keys):
    readable = CompanyFactory(sii_password_encrypted=under(OLD))
    lost = CompanyFactory(name="Llave Perdida SpA", sii_password_encrypted=under(STRANGER))
    keys(NEW, OLD)

    with pytest.raises(CommandError, match="1 SII password") as refusal:
        rotate()

    assert str(lost) in str(refusal.value)
    assert str(readable) not in str(refusal.value)
    assert token_of(lost) == lost.sii_password_encrypted  # left exactly as it was
    keys(NEW)
    assert Company.objects.get(pk=readable.pk).get_sii_password() == SIMULATOR_CLAVE


def test_old_keys_that_are_fernet_keys_start_up(tmp_path):
    done = manage_check(tmp_path, SII_CREDENTIALS_KEY=NEW, SII_CREDENTIALS_OLD_KEYS=f"{OLD}, {STRANGER}")

    assert done.returncode == 0, done.stderr


def test_a_bad_old_key_stops_start_up_naming_the_variable_and_which_key(tmp_path):
    done = manage_check(tmp_path, SII_CREDENTIALS_KEY=NEW, SII_CREDENTIALS_OLD_KEYS=f"{OLD},not-a-key")

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "SII_CREDENTIALS_OLD_KEYS (key 2) must be a Fernet key" in done.stderr
    assert OLD not in done.stderr


@pytest.fixture
def broker_of_its_own():
    """Publish to a Redis database no other worker consumes (the session's worker keeps the old key)."""
    with redis_broker_database(10):
        yield celery_app.conf.broker_url


def synced(company: Company) -> str:
    """A sync of the company by whichever worker consumes the broker now; how it finished."""
    return finished(launch("sii.sync_documents", company_id=str(company.pk))).status


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_company_synced_before_the_rotation_syncs_after_it_with_the_new_key_only(
    celery_worker_process, live_simulator, keys, served_simulator, request, tmp_path
):
    company = CompanyFactory()  # under the session worker's key: the one being retired
    assert synced(company) == "SUCCESS"
    keys(NEW, settings.SII_CREDENTIALS_KEY)
    rotate()
    keys(NEW)  # the old key removed: the worker below knows the new one only
    broker = request.getfixturevalue("broker_of_its_own")
    env = worker_env(
        database=settings.DATABASES["default"], simulator_url=served_simulator[1],
        extra={"CELERY_BROKER_URL": broker, "SII_CREDENTIALS_KEY": NEW, "SII_CREDENTIALS_OLD_KEYS": ""},
    )  # fmt: skip
    worker = WorkerProcess(env=env, log_path=tmp_path / "worker.log", concurrency=1)
    try:
        worker.wait_ready(celery_app)

        assert synced(company) == "SUCCESS"
    finally:
        worker.stop()
    assert live_simulator.requests_to("CAutInicio.cgi") == 2  # both syncs logged in
