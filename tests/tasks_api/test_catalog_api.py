"""GET /api/celery/tasks: the catalog, in the contract's exact shapes."""

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def listing(client) -> dict:
    response = client.get("/api/celery/tasks")
    assert response.status_code == 200
    return {task["task_type"]: task for task in response.json()}


def test_the_listing_has_exactly_the_four_catalog_task_types(viewer_api):
    assert sorted(listing(viewer_api)) == [
        "sii.sync_documents",
        "sii.sync_documents_all_companies",
        "sii.sync_f29",
        "sii.sync_f29_all_companies",
    ]


def test_sync_documents_is_listed_exactly_as_in_the_contract(viewer_api):
    documents = listing(viewer_api)["sii.sync_documents"]

    assert documents["name"] == "sii.sync_documents"
    assert (
        documents["description"] == "Sync tax documents (purchases, sales, honorarios) for a single company"
    )
    assert documents["parameters"]["company_id"] == {
        "type": "string",
        "required": True,
        "description": "Company UUID",
    }
    assert documents["parameters"]["months"] == {
        "type": "integer",
        "required": False,
        "default": 1,
        "min": 1,
        "max": 12,
    }
    assert documents["parameters"]["month_offset"] | {"max": None} == {
        "type": "integer", "required": False, "default": 0, "min": 0, "max": None,
    }  # fmt: skip


def test_year_shows_the_default_that_a_launch_now_would_use(viewer_api):
    year = listing(viewer_api)["sii.sync_f29"]["parameters"]["year"]

    assert year["default"] == str(timezone.localdate().year)
    assert year["type"] == "string"
    assert year["pattern"] == "^[0-9]{4}$"  # ASCII digits: \d would take full-width ones
