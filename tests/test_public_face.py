"""What a domain app may use of the control plane: the public modules tasks_api declares."""

import ast
from pathlib import Path

from tests.test_architecture import ROOT

# tasks_api's public face: the run model and its queries, the launch service, the catalog's
# declarations (TaskType, its parameters and console hooks, RecordedTask), the console's
# extension points and display helpers, and the metrics API.
PUBLIC = {
    "tasks_api.runs",
    "tasks_api.launching",
    "tasks_api.catalog",
    "tasks_api.console",
    "tasks_api.metrics",
}


def tasks_api_modules(path: Path) -> set[str]:
    """The tasks_api modules a file imports, at any depth; `from tasks_api import x` names x."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "tasks_api":
            found |= {f"tasks_api.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return {name for name in found if name == "tasks_api" or name.startswith("tasks_api.")}


def test_sii_imports_only_the_public_modules_of_tasks_api():
    private = {
        str(path.relative_to(ROOT)): sorted(tasks_api_modules(path) - PUBLIC)
        for path in sorted((ROOT / "sii").rglob("*.py"))
        if "migrations" not in path.parts
    }

    assert {path: modules for path, modules in private.items() if modules} == {}


def test_the_check_sees_every_form_of_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from tasks_api import console, models\nimport tasks_api.sql\n"
        "def f():\n    from tasks_api.console.display import number\n"
    )

    assert tasks_api_modules(module) - PUBLIC == {
        "tasks_api.models",
        "tasks_api.sql",
        "tasks_api.console.display",
    }


def test_every_public_module_says_what_it_offers():
    for name in PUBLIC:
        module = __import__(name, fromlist=["__all__"])
        assert module.__doc__
        assert module.__all__, name
