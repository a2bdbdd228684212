"""docker-compose.yml: valid for the compose spec, and the production shape the README describes."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from support.waits import scaled
from tests.deploy.compose import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    compose,
    env_example,
    interpolate,
    interpolated_names,
    service,
)
from tests.deploy.test_dockerfile import instructions
from tests.processes import ROOT

APP_SERVICES = ("migrate", "web", "worker", "beat", "sii-simulator")
# The monitoring profile's services (tests/deploy/test_monitoring.py checks them further).
MONITORING = ("prometheus", "grafana")
# Services that keep running, unlike the one-shot migrate job.
LONG_RUNNING = (
    "proxy",
    "postgres",
    "redis",
    "rabbitmq",
    "web",
    "worker",
    "beat",
    "sii-simulator",
    *MONITORING,
)
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
        timeout=scaled(60),
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_file_runs_the_proxy_the_stores_the_app_services_and_the_simulator():
    stores = {"postgres", "redis", "rabbitmq"}

    assert set(compose()["services"]) == {"proxy", *stores, *APP_SERVICES, *MONITORING}


def test_every_app_service_runs_the_one_image_built_here():
    for name in APP_SERVICES:
        app = service(name)
        assert (app["build"], app["image"], app["env_file"]) == (".", "sii-tasks", ".env"), name


def test_every_long_running_service_restarts_and_has_memory_and_cpu_limits_overridable_by_env():
    for name in LONG_RUNNING:
        limits = service(name)["deploy"]["resources"]["limits"]
        assert service(name)["restart"] == "unless-stopped", name
        assert set(limits) == {"memory", "cpus"}, name
        # Each limit has a default, and all but the simulator's take a variable from .env.
        assert all(interpolate(str(value), {}) for value in limits.values()), name
        if name != "sii-simulator":
            assert all(str(value).count("${") == 1 for value in limits.values()), name
    assert service("migrate")["restart"] == "no"


def test_every_service_but_the_proxy_and_the_migrate_job_has_a_health_check():
    checked = {name for name, spec in compose()["services"].items() if "healthcheck" in spec}

    assert checked == set(compose()["services"]) - {"proxy", "migrate"}


def test_only_the_proxy_publishes_ports_and_grafana_only_on_the_loopback():
    published = {name: spec["ports"] for name, spec in compose()["services"].items() if "ports" in spec}

    assert list(published) == ["proxy", "grafana"]
    assert [interpolate(port, {}) for port in published["proxy"]] == ["80:80", "443:443", "443:443/udp"]
    # Grafana (--profile monitoring) on the host's loopback only: reached through an SSH tunnel.
    assert [interpolate(port, {}) for port in published["grafana"]] == ["127.0.0.1:3000:3000"]


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


def test_web_execs_gunicorn_without_migrating_and_is_healthy_on_healthz():
    gunicorn = service("web")["command"][-1]

    assert service("web")["command"][:2] == ["sh", "-c"]
    assert "migrate" not in command("web")
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
    assert "--scheduler tasks_api.worker.beat:LeasedDatabaseScheduler" in command("beat")


def test_the_simulator_rabbitmq_and_monitoring_run_only_in_their_profiles():
    profiled = {name: s.get("profiles") for name, s in compose()["services"].items() if s.get("profiles")}

    assert profiled == {
        "sii-simulator": ["simulator"],
        "rabbitmq": ["rabbitmq"],
        **{name: ["monitoring"] for name in MONITORING},
    }
    assert "run_sii_simulator --host 0.0.0.0 --port 8001" in command("sii-simulator")


def test_a_one_shot_migrate_job_applies_migrations_once_the_stores_are_healthy():
    migrate = service("migrate")

    assert command("migrate") == "python manage.py migrate --noinput"
    assert set(migrate["depends_on"]) == {"postgres", "redis"}


def test_web_worker_and_beat_start_once_the_migrate_job_has_succeeded():
    for name in ("web", "worker", "beat"):
        depends_on = service(name)["depends_on"]
        assert set(depends_on) == {"postgres", "redis", "migrate"}, name
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name


def test_the_worker_health_check_pings_its_own_node_only():
    test = service("worker")["healthcheck"]["test"]

    assert test[0] == "CMD-SHELL"
    # The worker runs without -n: its node name is Celery's default, celery@ + its host name.
    assert " -n " not in f" {command('worker')} "
    assert "--hostname" not in command("worker")
    assert "celery -A config inspect ping --destination celery@$$HOSTNAME" in test[1]


def test_the_beat_health_check_wants_the_heartbeat_file_in_the_image_s_var_dir_fresh():
    check = " ".join(service("beat")["healthcheck"]["test"])

    image_env = " ".join(args for keyword, args in instructions() if keyword == "ENV")

    assert "VAR_DIR=/app/var" in image_env
    assert f"getmtime('/app/var/{settings.BEAT_HEARTBEAT_FILE.name}')" in check


def test_sii_mode_has_no_default_and_env_example_leaves_it_to_be_chosen():
    for name in APP_SERVICES:
        assert service(name)["environment"]["SII_MODE"].startswith("${SII_MODE:?"), name
    assert env_example()["SII_MODE"] == ""
    with pytest.raises(KeyError, match="SII_MODE"):
        interpolate(service("web")["environment"]["SII_MODE"], {})


def test_the_app_trusts_the_proxy_and_serves_the_site_address_and_localhost():
    environment = service("web")["environment"]
    hosts = interpolate(environment["DJANGO_ALLOWED_HOSTS"], {"SITE_ADDRESS": "tasks.example.com"})

    assert environment["DJANGO_BEHIND_HTTPS_PROXY"] == "true"
    # localhost: the web health check's requests; web: Prometheus's scrapes of /metrics.
    assert hosts.split(",") == ["tasks.example.com", "localhost", "web"]
    assert service("proxy")["environment"]["SITE_ADDRESS"].startswith("${SITE_ADDRESS:?")


def test_every_dependency_on_the_stores_waits_until_they_are_healthy():
    for name, spec in compose()["services"].items():
        depends_on = spec.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: use the long depends_on syntax with conditions"
        for store in ("postgres", "redis"):
            if store in depends_on:
                assert depends_on[store]["condition"] == "service_healthy", (name, store)


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
