"""Settings come from the environment, and bad values stop start-up with a clear message."""

import os

import pytest

from tests.processes import manage_check


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SII_MODE", "lve", "SII_MODE='lve' is not one of: simulator, live"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean"),
        ("SII_SYNC_TIME_LIMIT", "ten", "SII_SYNC_TIME_LIMIT='ten' is not an integer"),
        (
            "SII_SYNC_SOFT_TIME_LIMIT",
            "900",
            "SII_SYNC_TIME_LIMIT must be greater than SII_SYNC_SOFT_TIME_LIMIT",
        ),
        ("SII_CREDENTIALS_KEY", "not-a-key", "SII_CREDENTIALS_KEY must be a Fernet key"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL is not a valid database URL"),
        ("DJANGO_SECRET_KEY", "change-me", "DJANGO_SECRET_KEY is still the placeholder from .env.example"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' is not one of: plain, json, bare"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path, variable, value, message):
    done = manage_check(tmp_path, **{variable: value})

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert message in done.stderr


def test_the_embedded_default_needs_no_environment_and_keeps_its_secrets_out_of_the_repo(tmp_path):
    done = manage_check(tmp_path)

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "sii_credentials.key").exists()
    assert (tmp_path / "broker" / "control").is_dir()


def test_debug_is_off_unless_asked_for():
    from django.conf import settings

    assert settings.DEBUG is (os.environ.get("DJANGO_DEBUG", "").lower() in ("1", "true", "yes", "on"))
