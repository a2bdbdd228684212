"""The dependency direction: config -> sii -> tasks_api, never tasks_api -> sii; tests and benchmarks
-> support, never support or benchmarks -> tests, never the apps -> support."""

import ast
import re
from pathlib import Path

import pytest

from tests.processes import ROOT


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING blocks too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def imports_of(app: str, forbidden: str) -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        bad = {m for m in imported_modules(path) if m == forbidden or m.startswith(f"{forbidden}.")}
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


@pytest.mark.parametrize(
    ("app", "forbidden"),
    [
        ("tasks_api", "sii"), ("tasks_api", "config"), ("sii", "config"),
        # support/ runs the tests' and the benchmarks' processes; the apps never need it.
        ("support", "tests"), ("benchmarks", "tests"),
        ("config", "support"), ("sii", "support"), ("tasks_api", "support"),
    ],
)  # fmt: skip
def test_an_app_never_imports_what_depends_on_it(app, forbidden):
    assert imports_of(app, forbidden) == {}


def test_the_walk_finds_imports_at_any_depth(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from sii.models import Company\n    import sii.rut\n")

    assert imported_modules(module) == {"sii.models", "sii.rut"}


def test_tasks_api_names_no_domain_task_type_in_its_code():
    code = "\n".join(p.read_text() for p in (ROOT / "tasks_api").rglob("*.py") if "migrations" not in p.parts)

    assert "sii.sync" not in code


def test_every_type_ignore_names_its_error_code_and_says_why():
    unexplained = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in ("config", "sii", "tasks_api", "support")
        for path in (ROOT / app).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "# type: ignore" in line and not re.search(r"# type: ignore\[[\w-]+\]\s+#\s*\S", line)
    ]

    assert unexplained == []


# tasks_api's layers, lowest first: a module imports only from its own layer or lower ones, and an
# edge (api, worker, console) never from another edge. The wiring modules (apps, admin's
# autodiscovery, the public faces and the management commands) may import any edge.
CORE = {
    "models",
    "states",
    "sql",
    "outages",
    "registry",
    "params",
    "permissions",
    "redis_clients",
    "snapshots",
    "runs",
}
LAYERS = {**dict.fromkeys(CORE, 0), "selectors": 1, "services": 2, "metrics": 2}
WIRING = {"apps", "admin", "catalog", "launching", "management"}


def tasks_api_layer(module: str) -> tuple[int, str] | None:
    parts = module.split(".")
    if parts[0] != "tasks_api" or len(parts) < 2:
        return None
    return LAYERS.get(parts[1], 3), parts[1]


def layer_violations() -> list[str]:
    found = []
    for path in sorted((ROOT / "tasks_api").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        mine = tasks_api_layer(module)
        if mine is None or mine[1] in WIRING:
            continue
        for imported in imported_modules(path):
            other = tasks_api_layer(imported)
            if other and (other[0] > mine[0] or (other[0] == mine[0] == 3 and other[1] != mine[1])):
                found.append(f"{module} -> {imported}")
    return found


def test_no_layer_of_tasks_api_imports_a_higher_one_nor_an_edge_another_edge():
    assert layer_violations() == []
