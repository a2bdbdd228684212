"""deploy/prometheus and deploy/grafana: valid files that name only metrics /metrics exports, and
the compose monitoring profile that runs them (the proxy hiding /metrics: test_caddy_https)."""

import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.compose import compose, interpolate, service
from tests.deploy.test_compose import MONITORING
from tests.processes import ROOT

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "sii-tasks.json"
# The alerts the README's runbook explains, one line each.
ALERTS = {
    "MetricsTargetDown",
    "TaskFailureRateHigh",
    "TaskQueueStuck",
    "NoWorkerOnline",
    "BeatSilent",
    "SiiErrorRateHigh",
    "SiiDataStale",
}
# PromQL words that look like metric names: keywords, and what grouping clauses list (label names).
_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "and",
    "or",
    "unless",
}
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\()(?![A-Za-z0-9_:])")
_HISTOGRAM_SERIES = re.compile(r"_(bucket|sum|count)$")


def prometheus_config() -> dict:
    return yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())


def credentials_file() -> str:
    return prometheus_config()["scrape_configs"][0]["authorization"]["credentials_file"]


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_panels() -> list[dict]:
    return [panel for panel in json.loads(DASHBOARD.read_text())["panels"] if panel["type"] != "row"]


def dashboard_exprs() -> list[str]:
    return [target["expr"] for panel in dashboard_panels() for target in panel["targets"]]


def every_expr() -> list[str]:
    return [rule["expr"] for rule in alert_rules()] + dashboard_exprs()


def metric_names_in(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: not functions, keywords, label names,
    label values, durations or numbers; a histogram's _bucket/_sum/_count series by its name."""
    text = re.sub(r'"[^"]*"', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)  # label matchers, range durations
    text = _GROUPING.sub(" ", text)
    names = set(_IDENTIFIER.findall(text)) - _KEYWORDS
    return {_HISTOGRAM_SERIES.sub("", name) for name in names}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is missing: Debian's prometheus package has it (apt-get install prometheus)")
    return found


def test_the_metric_name_reader_skips_functions_keywords_labels_and_durations():
    expr = 'histogram_quantile(0.95, sum by (task_type, le) (rate(a_seconds_bucket{x="y"}[5m]))) / b_total or absent(c)'

    assert metric_names_in(expr) == {"a_seconds", "b_total", "c"}


def test_prometheus_scrapes_web_every_15_s_with_the_token_file_and_loads_the_alerts():
    config = prometheus_config()
    (job,) = config["scrape_configs"]

    assert config["global"]["scrape_interval"] == config["global"]["evaluation_interval"] == "15s"
    assert config["rule_files"] == ["alerts.yml"]
    assert (job["job_name"], job["metrics_path"]) == ("sii-tasks", "/metrics")
    assert job["static_configs"] == [{"targets": ["web:8000"]}]
    assert job["authorization"]["type"] == "Bearer"
    assert set(job["authorization"]) == {"type", "credentials_file"}


def test_every_alert_has_an_expression_a_duration_a_severity_and_a_summary():
    rules = alert_rules()

    assert {rule["alert"] for rule in rules} == ALERTS
    for rule in rules:
        assert re.fullmatch(r"\d+m", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]


def test_every_promql_expression_has_balanced_brackets():
    pairs = {")": "(", "]": "[", "}": "{"}
    for expr in every_expr():
        stack: list[str] = []
        for char in re.sub(r'"[^"]*"', "", expr):
            if char in "([{":
                stack.append(char)
            elif char in pairs:
                assert stack, expr
                assert stack.pop() == pairs[char], expr
        assert not stack, expr


def test_promtool_accepts_the_alert_rules_and_the_configuration(tmp_path):
    command = promtool()
    # check config wants the credentials file to exist: the container writes it at start.
    token = tmp_path / "metrics.token"
    token.write_text("token")
    config = (PROMETHEUS_DIR / "prometheus.yml").read_text().replace(credentials_file(), str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(PROMETHEUS_DIR / "alerts.yml", tmp_path / "alerts.yml")

    rules = subprocess.run(
        [command, "check", "rules", tmp_path / "alerts.yml"], capture_output=True, text=True
    )
    checked = subprocess.run(
        [command, "check", "config", tmp_path / "prometheus.yml"], capture_output=True, text=True
    )

    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(ALERTS)} rules found" in rules.stdout


def test_sii_data_stale_fires_per_surface_after_30_stale_minutes_and_resolves_when_synced(tmp_path):
    command = promtool()
    shutil.copy(PROMETHEUS_DIR / "alerts.yml", tmp_path / "alerts.yml")
    (rule,) = [rule for rule in alert_rules() if rule["alert"] == "SiiDataStale"]
    stale = {"surface": "purchases"}
    series = [
        # Purchases: fresh for 5 minutes, 3 companies stale for 40, synced again; F29 always fresh.
        {"series": 'sii_companies_stale{surface="purchases"}', "values": "0x4 3x40 0x20"},
        {"series": 'sii_companies_stale{surface="f29"}', "values": "0x65"},
    ]
    firing = {
        "exp_labels": {"severity": "warning", **stale},
        "exp_annotations": {
            "summary": "3 companies' purchases data is stale",
            "description": rule["annotations"]["description"]
            .replace("{{ $value }}", "3")
            .replace("{{ $labels.surface }}", "purchases"),
        },
    }
    checks = [("34m", []), ("36m", [firing]), ("50m", [])]  # stale since 5m: pending until 35m
    unit = {
        "rule_files": ["alerts.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": at, "alertname": "SiiDataStale", "exp_alerts": alerts}
                    for at, alerts in checks
                ],
            }
        ],
    }
    (tmp_path / "unit.yml").write_text(yaml.safe_dump(unit))

    done = subprocess.run([command, "test", "rules", tmp_path / "unit.yml"], capture_output=True, text=True)

    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_parses_every_dashboard_query(tmp_path):
    command = promtool()
    # Each query as a recording rule, Grafana's $__rate_interval as a duration: promtool parses them.
    records = [
        {"record": f"dashboard:query_{n}", "expr": expr.replace("$__rate_interval", "1m")}
        for n, expr in enumerate(dashboard_exprs())
    ]
    rules = tmp_path / "dashboard.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))

    done = subprocess.run([command, "check", "rules", rules], capture_output=True, text=True)

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dashboard_queries_the_provisioned_data_source_in_every_panel():
    dashboard = json.loads(DASHBOARD.read_text())
    datasources = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (source,) = datasources["datasources"]
    expected = {"type": "prometheus", "uid": source["uid"]}

    assert (dashboard["uid"], dashboard["schemaVersion"] >= 39) == ("sii-tasks", True)
    assert source["url"] == "http://prometheus:9090"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in dashboard_panels():
        assert panel["datasource"] == expected, panel["title"]
        assert panel["targets"], panel["title"]
        assert all(t["expr"] and t["datasource"] == expected for t in panel["targets"]), panel["title"]


def test_the_dashboard_provider_loads_the_directory_grafana_mounts():
    (provider,) = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "provider.yml").read_text())[
        "providers"
    ]

    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in service("grafana")["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in service("grafana")["volumes"]


def test_every_metric_the_alerts_and_the_dashboard_name_is_exported():
    from tasks_api.metrics import metric_names

    exported = metric_names() | {"up"}
    named = set().union(*map(metric_names_in, every_expr()))
    # A counter may be registered under its family name, which /metrics shows with _total.
    missing = {name for name in named if name not in exported and name.removesuffix("_total") not in exported}

    assert "tasks_api_run_duration_seconds" in named
    assert not missing, sorted(missing)


def test_the_monitoring_services_run_only_in_their_profile_from_exact_releases_with_health_checks():
    for name in MONITORING:
        spec = service(name)
        assert spec["profiles"] == ["monitoring"], name
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", spec["image"]), name  # an exact release
        assert spec["healthcheck"]["test"][0] == "CMD", name
    assert {"prometheus-data", "grafana-data"} <= set(compose()["volumes"])


def entrypoint_script(name: str, replace: dict[str, str]) -> str:
    script = interpolate(service(name)["entrypoint"][-1], {})
    for old, new in replace.items():
        script = script.replace(old, new)
    return script


@pytest.mark.parametrize("token", ["", "change-me"])
def test_prometheus_refuses_to_start_without_a_real_metrics_token(tmp_path, token):
    script = entrypoint_script("prometheus", {credentials_file(): str(tmp_path / "token")})

    done = subprocess.run(["sh", "-c", script], env={"METRICS_TOKEN": token}, capture_output=True, text=True)

    assert (done.returncode, done.stderr.strip()) == (1, "set METRICS_TOKEN in .env")
    assert not (tmp_path / "token").exists()


def test_prometheus_starts_with_the_token_written_where_its_configuration_reads_it(tmp_path):
    token_file = tmp_path / "token"
    script = entrypoint_script(
        "prometheus",
        {credentials_file(): str(token_file), "exec /bin/prometheus": "exec echo /bin/prometheus"},
    )

    done = subprocess.run(
        ["sh", "-c", script], env={"METRICS_TOKEN": "s3cret"}, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert token_file.read_text() == "s3cret"  # no newline: Prometheus would send it
    assert "--config.file=/etc/prometheus/prometheus.yml" in done.stdout
    assert "./deploy/prometheus:/etc/prometheus:ro" in service("prometheus")["volumes"]


@pytest.mark.parametrize("password", ["", "change-me"])
def test_grafana_refuses_to_start_without_a_real_admin_password(password):
    script = entrypoint_script("grafana", {})

    done = subprocess.run(
        ["sh", "-c", script], env={"GRAFANA_ADMIN_PASSWORD": password}, capture_output=True, text=True
    )

    assert (done.returncode, done.stderr.strip()) == (1, "set GRAFANA_ADMIN_PASSWORD in .env")
    assert service("grafana")["environment"]["GRAFANA_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:-}"


def test_grafana_starts_with_the_admin_password_from_env():
    script = entrypoint_script("grafana", {"exec /run.sh": "exec printenv GF_SECURITY_ADMIN_PASSWORD"})

    done = subprocess.run(
        ["sh", "-c", script], env={"GRAFANA_ADMIN_PASSWORD": "s3cret"}, capture_output=True, text=True
    )

    assert (done.returncode, done.stdout) == (0, "s3cret\n")
