"""Read docker-compose.yml and .env.example the way docker compose does, for the deploy tests."""

import re
from functools import cache

import yaml

from tests.processes import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
# NAME=value, also when commented out: a commented line documents a variable and its default.
_ENV_LINE = re.compile(r"^#?\s*(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's interpolation of `text`, with `variables` standing in for the shell and .env."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        value = variables.get(name)
        # The colon forms treat an empty value as unset.
        if op and (value is None or (not value and op.startswith(":"))):
            if op.endswith("?"):
                raise KeyError(f"{name}: {arg}")
            return arg
        return value or ""

    return _VARIABLE.sub(replace, text)


def interpolated_names() -> set[str]:
    """Every variable docker-compose.yml interpolates from the shell or .env."""
    return {m.group("name") for m in _VARIABLE.finditer(COMPOSE_FILE.read_text()) if m.group("name")}


def env_example() -> dict[str, str]:
    """.env.example's variables (commented-out ones included) and their example values."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    return {m["name"]: m["value"] for m in map(_ENV_LINE.match, lines) if m}
