"""docker-compose.yml: valid for the compose spec, and the production shape the README describes."""

import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.deploy.compose import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    compose,
    env_example,
    interpolated_names,
    service,
)
from tests.processes import ROOT

APP_SERVICES = ("web", "worker", "beat", "sii-simulator")
SETTINGS_FILE = ROOT / "config" / "settings.py"
# env_str("NAME", ...), env_int(\n "NAME", ...): every variable settings.py reads by its literal name.
_SETTING_READ = re.compile(r'\benv_\w+\(\s*"([A-Z][A-Z0-9_]*)"')
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY$|TOKEN$")
_PLACEHOLDER = "change-me"


def command(name: str) -> str:
    """The service's command as one string (compose accepts a list or a string)."""
    value = service(name).get("command", "")
    return value if isinstance(value, str) else " ".join(value)


def test_the_compose_file_validates_against_the_compose_spec_schema():
    check = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [check, "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_file_runs_the_stores_the_app_services_and_the_simulator():
    assert set(compose()["services"]) == {"postgres", "redis", *APP_SERVICES}


def test_every_app_service_runs_the_one_image_built_here_and_restarts():
    for name in APP_SERVICES:
        app = service(name)
        assert (app["build"], app["image"], app["env_file"]) == (".", "sii-tasks", ".env"), name
        assert app["restart"] == "unless-stopped", name


def test_postgres_keeps_its_data_on_a_named_volume_and_is_checked_with_pg_isready():
    postgres = service("postgres")

    assert postgres["image"].startswith("postgres:16")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert postgres["volumes"][0].split(":")[0] in compose()["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_redis_is_checked_with_redis_cli_ping():
    redis = service("redis")

    assert redis["image"].startswith("redis:7")
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_web_migrates_then_execs_gunicorn_and_is_healthy_on_healthz():
    migrate, gunicorn = command("web").split(" && ")

    assert migrate.endswith("python manage.py migrate --noinput")
    assert gunicorn.startswith("exec gunicorn config.wsgi --bind 0.0.0.0:8000")
    assert "--workers ${WEB_CONCURRENCY:-2}" in gunicorn
    assert "/healthz" in " ".join(service("web")["healthcheck"]["test"])


def test_the_worker_consumes_both_queues_and_keeps_its_revoke_state_on_a_volume():
    worker = service("worker")
    statedb = re.search(r"--statedb (\S+)", command("worker")).group(1)

    assert "-Q" not in command("worker").split()  # no -Q: every queue the settings declare
    assert "--pool prefork" in command("worker")
    volume, mount = worker["volumes"][0].split(":")
    assert volume in compose()["volumes"]
    assert statedb.startswith(mount + "/")
    # One file per container: replicas (--scale worker=3) must not share a shelve file.
    assert "%h" in statedb


def test_the_worker_has_time_for_a_warm_shutdown_of_the_longest_task():
    grace = service("worker")["stop_grace_period"]
    seconds = int(grace.removesuffix("m")) * 60 if grace.endswith("m") else int(grace.removesuffix("s"))

    assert seconds >= settings.SII_SYNC_TIME_LIMIT


def test_exactly_one_beat_runs_the_database_scheduler():
    beats = [name for name in compose()["services"] if " beat" in command(name)]

    assert beats == ["beat"]
    assert service("beat")["deploy"]["replicas"] == 1
    assert "--scheduler tasks_api.beat:LeasedDatabaseScheduler" in command("beat")


def test_the_simulator_runs_only_in_the_simulator_profile():
    profiled = {name: s.get("profiles") for name, s in compose()["services"].items() if s.get("profiles")}

    assert profiled == {"sii-simulator": ["simulator"]}
    assert "run_sii_simulator --host 0.0.0.0 --port 8001" in command("sii-simulator")


def test_every_dependency_on_the_stores_waits_until_they_are_healthy():
    for name, spec in compose()["services"].items():
        depends_on = spec.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: use the long depends_on syntax with conditions"
        for store in ("postgres", "redis"):
            if store in depends_on:
                assert depends_on[store]["condition"] == "service_healthy", (name, store)
    for name in ("worker", "beat"):
        assert set(service(name)["depends_on"]) == {"postgres", "redis", "web"}
        assert service(name)["depends_on"]["web"]["condition"] == "service_healthy"
    assert set(service("web")["depends_on"]) == {"postgres", "redis"}


def test_the_app_services_log_json_and_require_their_secrets():
    for name in APP_SERVICES:
        environment = service(name)["environment"]
        assert environment["LOG_FORMAT"] == "json", name
        for secret in ("DJANGO_SECRET_KEY", "SII_CREDENTIALS_KEY"):
            assert environment[secret] == f"${{{secret}:?set {secret} in .env}}", (name, secret)


def test_env_example_lists_every_variable_the_compose_file_names():
    environment = {key for spec in compose()["services"].values() for key in spec.get("environment", {})}

    missing = (environment | interpolated_names()) - set(env_example())

    assert not missing, f"add to {ENV_EXAMPLE.name}: {sorted(missing)}"


def test_env_example_lists_every_variable_settings_read():
    read = set(_SETTING_READ.findall(SETTINGS_FILE.read_text()))
    # The SII host overrides are read through f"SII_{surface.upper()}_URL".
    read |= {f"SII_{surface.upper()}_URL" for surface in settings.SII_BASE_URLS}

    missing = read - set(env_example())

    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "SII_CREDENTIALS_KEY", "LOG_LEVEL"} <= read
    assert not missing, f"add to {ENV_EXAMPLE.name}: {sorted(missing)}"


def test_env_example_documents_each_variable_with_a_comment_line_above_it():
    lines = ENV_EXAMPLE.read_text().splitlines()
    variable = re.compile(r"^#?\s*[A-Z][A-Z0-9_]*=")

    undocumented = [
        line
        for number, line in enumerate(lines)
        if variable.match(line)
        and (not lines[number - 1].startswith("# ") or variable.match(lines[number - 1]))
    ]

    assert not undocumented, undocumented


def test_env_example_holds_no_real_looking_secret():
    def looks_real(name: str, value: str) -> bool:
        credentials = re.search(r"://[^:/@]+:([^@]+)@", value)
        return bool(
            (_SECRET_NAME.search(name) and value != _PLACEHOLDER)
            or (credentials and credentials.group(1) != _PLACEHOLDER)
            or re.search(r"[A-Za-z0-9+/_=-]{32,}", value)  # a key or a token
        )

    suspicious = [name for name, value in env_example().items() if looks_real(name, value)]

    assert not suspicious, f"use {_PLACEHOLDER!r} in {ENV_EXAMPLE.name} for: {suspicious}"
