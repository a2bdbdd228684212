"""The Dockerfile: lint-clean, slim, unprivileged, cache-friendly, static files built in."""

import subprocess
import sys
from pathlib import Path

from support.waits import scaled
from tests.processes import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    logical = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in logical.splitlines()]
    return [
        (keyword.upper(), " ".join(rest.split()))
        for keyword, _, rest in (line.partition(" ") for line in lines if line and not line.startswith("#"))
    ]


def position(keyword: str, contains: str) -> int:
    matches = [i for i, (k, args) in enumerate(instructions()) if k == keyword and contains in args]
    assert matches, f"no {keyword} with {contains!r} in the Dockerfile"
    return matches[0]


def test_hadolint_passes():
    hadolint = Path(sys.executable).parent / "hadolint"
    # Run from the root so that hadolint reads .hadolint.yaml, where ignored rules are explained.
    done = subprocess.run(
        [hadolint, DOCKERFILE], cwd=ROOT, capture_output=True, text=True, timeout=scaled(60)
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_builds_on_slim_python_3_11():
    assert [args for keyword, args in instructions() if keyword == "FROM"] == ["python:3.11-slim-bookworm"]


def test_the_image_runs_as_a_non_root_user():
    users = [args for keyword, args in instructions() if keyword == "USER"]

    assert users, "no USER instruction: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_requirements_are_installed_before_the_code_is_copied():
    copy_requirements = position("COPY", "requirements.txt")
    install = position("RUN", "pip install --no-cache-dir -r requirements.txt")
    copy_code = position("COPY", ". .")

    assert copy_requirements < install < copy_code


def test_static_files_are_collected_at_build_time_into_the_static_root():
    collect = position("RUN", "manage.py collectstatic --noinput")

    assert collect > position("COPY", ". .")
    assert position("ENV", "STATIC_ROOT=/app/static") < collect


def test_python_writes_no_bytecode_and_no_buffered_output():
    env = " ".join(args for keyword, args in instructions() if keyword == "ENV")

    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env


def test_the_default_command_is_gunicorn_and_compose_owns_health_checks():
    keywords = [keyword for keyword, _ in instructions()]

    assert "HEALTHCHECK" not in keywords
    assert instructions()[-1][0] == "CMD"
    assert instructions()[-1][1].startswith('["gunicorn", "config.wsgi"')


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".env", ".venv", "var", "artifacts", ".git", "**/__pycache__"} <= ignored
