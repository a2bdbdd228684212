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
