"""What the figures were measured on: the machine, the versions, the HTTP client."""

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path


def machine_info(*, client: str) -> dict:
    from django.db import connection

    from config.celery import app

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    redis_info = app.connection_for_write().default_channel.client.info("server")
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "django": version("django"),
        "celery": version("celery"),
        "flower": version("flower"),
        "gunicorn": version("gunicorn"),
        "postgresql": postgres,
        "redis": redis_info.get("redis_version"),
        "client": client,
        "client_version": _wrk_version() if client == "wrk" else "python http.client",
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def _wrk_version() -> str:
    # `wrk --version` prints its banner and exits 1.
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "wrk"
