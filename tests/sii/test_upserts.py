"""rows_upsert: batch INSERT ... ON CONFLICT, counting created, updated and unchanged rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.rows import purchase_rows
from sii.models import PurchaseDocument
from sii.services.documents import DOCUMENT_KEY
from sii.services.upserts import rows_upsert

pytestmark = pytest.mark.django_db


def upsert(company, rows, batch_size=1000):
    return rows_upsert(
        model=PurchaseDocument, company=company, rows=rows, key_fields=DOCUMENT_KEY, batch_size=batch_size
    )


def test_new_rows_are_created_in_one_statement_per_batch(company):
    with CaptureQueriesContext(connection) as queries:
        counts = upsert(company, purchase_rows(250), batch_size=100)

    assert (counts.created, counts.updated, counts.unchanged) == (250, 0, 0)
    assert PurchaseDocument.objects.filter(company=company).count() == 250
    inserts = [q for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3
    assert len(queries) == 6  # one SELECT of stored rows and one upsert per batch


def test_changed_rows_are_updated_and_unchanged_ones_left_alone(company):
    rows = purchase_rows(10)
    upsert(company, rows)
    changed = purchase_rows(4, bump=7)

    counts = upsert(company, changed + rows[4:])

    assert (counts.created, counts.updated, counts.unchanged) == (0, 4, 6)
    assert PurchaseDocument.objects.get(company=company, folio=1).monto_neto == rows[0]["monto_neto"] + 7


def test_the_same_document_twice_in_one_batch_is_stored_once(company):
    rows = purchase_rows(3)

    counts = upsert(company, [*rows, rows[0]])

    assert counts.created == 3
    assert PurchaseDocument.objects.filter(company=company).count() == 3


def test_first_synced_at_survives_an_update_and_changed_at_moves(company):
    upsert(company, purchase_rows(1))
    before = PurchaseDocument.objects.get(company=company)

    upsert(company, purchase_rows(1, bump=1))

    after = PurchaseDocument.objects.get(company=company)
    assert after.first_synced_at == before.first_synced_at
    assert after.changed_at > before.changed_at
