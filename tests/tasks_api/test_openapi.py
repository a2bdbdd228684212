"""The OpenAPI schema validates with no warnings, and the docs pages are served."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_validates_with_no_warnings(tmp_path):
    out = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    assert set(paths) == {
        "/api/celery/tasks", "/api/celery/tasks/launch", "/api/celery/tasks/{task_id}", "/api/celery/stats",
        "/api/celery/tasks/{task_id}/children", "/api/celery/tasks/{task_id}/relaunch", "/api/celery/runs",
        "/api/celery/tasks/{task_id}/attempts",
    }  # fmt: skip
    attempts = paths["/api/celery/tasks/{task_id}/attempts"]["get"]["responses"]["200"]["content"]
    summaries = [example["summary"] for example in attempts["application/json"]["examples"].values()]
    assert summaries == ["Retried, then succeeded"]
    operations = [op for path in paths.values() for op in path.values()]
    assert all(op["tags"] == ["Celery Tasks"] for op in operations)
    mapping = schema["components"]["schemas"]["TaskLaunchRequest"]["discriminator"]["mapping"]
    assert set(mapping) == {
        "sii.sync_documents", "sii.sync_documents_all_companies", "sii.sync_f29", "sii.sync_f29_all_companies",
    }  # fmt: skip


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/api/schema/"])
def test_the_docs_are_served(client, page):
    assert client.get(page).status_code == 200
