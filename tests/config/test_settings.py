"""Settings come from the environment, and bad values stop start-up with a clear message."""

import os
import socket
import subprocess
import sys

import pytest

from support.waits import scaled
from tests.processes import ROOT, manage_check


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
        ("METRICS_TOKEN", "change-me", "METRICS_TOKEN is still the placeholder from .env.example"),
        ("SII_FRESHNESS_TARGET_HOURS", "a day", "SII_FRESHNESS_TARGET_HOURS='a day' is not an integer"),
        ("SII_FRESHNESS_TARGET_HOURS", "0", "SII_FRESHNESS_TARGET_HOURS=0 must be at least 1"),
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


def _celery_settings(tmp_path, broker_url: str) -> str:
    """The Celery queues and transport options that start-up computes for this broker."""
    script = "from django.conf import settings as s; print([(q.exchange.type, q.queue_arguments) for q in s.CELERY_TASK_QUEUES], s.CELERY_BROKER_TRANSPORT_OPTIONS)"
    env = {**os.environ, "VAR_DIR": str(tmp_path), "CELERY_BROKER_URL": broker_url}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=scaled(60), check=True,
    )  # fmt: skip
    return done.stdout


def test_an_amqp_broker_gets_quorum_queues_on_topic_exchanges_and_no_redis_options(tmp_path):
    printed = _celery_settings(tmp_path, "amqp://guest:guest@127.0.0.1:5672//")

    assert printed.count("'x-queue-type': 'quorum'") == 3
    assert printed.count("('topic', ") == 3
    assert "visibility_timeout" not in printed
    assert "queue_order_strategy" not in printed


def test_a_redis_broker_keeps_classic_queues_its_visibility_timeout_and_takes_its_queues_in_order(tmp_path):
    printed = _celery_settings(tmp_path, "redis://127.0.0.1:6379/0")

    assert "quorum" not in printed
    assert "visibility_timeout" in printed
    assert "'queue_order_strategy': 'priority'" in printed


def test_a_postgresql_server_that_never_answers_fails_the_connection_instead_of_hanging(tmp_path):
    # A socket that accepts connections (the kernel's backlog) and never says a word, as a
    # server behind a dropping firewall or a frozen host does.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"postgres://postgres@127.0.0.1:{silent.getsockname()[1]}/sii_tasks"
        env = {**os.environ, "VAR_DIR": str(tmp_path), "DATABASE_URL": url, "DATABASE_CONNECT_TIMEOUT": "1"}
        script = "from django.db import connection; connection.ensure_connection()"
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=scaled(60),
        )  # fmt: skip

    assert done.returncode != 0
    assert "OperationalError" in done.stderr
    assert "timeout" in done.stderr.lower()
