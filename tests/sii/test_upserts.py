"""rows_upsert: counting created, updated and unchanged rows, on PostgreSQL and the portable path."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from benchmarks.rows import purchase_rows
from sii.models import PurchaseDocument
from sii.services.documents import DOCUMENT_KEY
from sii.services.upserts import rows_upsert

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["postgresql", "portable"])
def path(request, monkeypatch) -> str:
    """Each test runs on both paths: PostgreSQL's COPY + merge, and the one SQLite takes."""
    if request.param == "postgresql" and connection.vendor != "postgresql":
        pytest.skip("the COPY path needs PostgreSQL (make test runs on it)")
    if request.param == "portable":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    return request.param


def upsert(company, rows, batch_size=1000):
    return rows_upsert(
        model=PurchaseDocument, company=company, rows=rows, key_fields=DOCUMENT_KEY, batch_size=batch_size
    )


def counts_of(counts) -> tuple[int, int, int]:
    return counts.created, counts.updated, counts.unchanged


def stored(company) -> dict[int, PurchaseDocument]:
    return {doc.folio: doc for doc in PurchaseDocument.objects.filter(company=company)}


def row_versions(company) -> dict[int, tuple]:
    """Each row's xmin (the transaction that wrote this version) and xmax (0: never locked)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT folio, xmin::text, xmax::text FROM sii_purchasedocument WHERE company_id = %s",
            [company.pk],
        )
        return {folio: (xmin, xmax) for folio, xmin, xmax in cursor.fetchall()}


def test_a_mix_of_new_changed_and_unchanged_rows_is_counted_exactly(company, path):
    upsert(company, purchase_rows(10))
    rows = purchase_rows(3, bump=5) + purchase_rows(10)[3:] + purchase_rows(14)[10:]

    counts = upsert(company, rows)

    assert counts_of(counts) == (4, 3, 7)
    assert counts.total == 14
    assert stored(company)[2].monto_neto == purchase_rows(2, bump=5)[1]["monto_neto"]


def test_changed_rows_are_updated_and_unchanged_ones_left_alone(company, path):
    rows = purchase_rows(10)
    upsert(company, rows)
    changed = purchase_rows(4, bump=7)

    counts = upsert(company, changed + rows[4:])

    assert counts_of(counts) == (0, 4, 6)
    assert PurchaseDocument.objects.get(company=company, folio=1).monto_neto == rows[0]["monto_neto"] + 7


def test_a_resync_of_unchanged_rows_writes_nothing(company, path):
    upsert(company, purchase_rows(50))
    before = stored(company)

    counts = upsert(company, purchase_rows(50))

    assert counts_of(counts) == (0, 0, 50)
    after = stored(company)
    assert [doc.changed_at for doc in after.values()] == [before[folio].changed_at for folio in after]


def test_a_resync_of_unchanged_rows_neither_writes_nor_locks_a_row_version(company):
    if connection.vendor != "postgresql":
        pytest.skip("xmin and xmax are PostgreSQL's")
    upsert(company, purchase_rows(50))
    before = row_versions(company)
    assert {xmax for _, xmax in before.values()} == {"0"}

    upsert(company, purchase_rows(50))

    assert row_versions(company) == before


def test_only_the_changed_rows_get_a_new_row_version(company):
    if connection.vendor != "postgresql":
        pytest.skip("xmin is PostgreSQL's")
    upsert(company, purchase_rows(5))
    before = row_versions(company)

    upsert(company, purchase_rows(2, bump=1) + purchase_rows(5)[2:])

    after = row_versions(company)
    assert [folio for folio in sorted(after) if after[folio] != before[folio]] == [1, 2]


def test_the_same_document_twice_in_one_batch_is_stored_once_and_the_last_wins(company, path):
    rows = purchase_rows(3)
    bumped = purchase_rows(1, bump=9)[0]

    counts = upsert(company, [*rows, bumped])

    assert counts_of(counts) == (3, 0, 0)
    assert stored(company)[1].monto_neto == bumped["monto_neto"]


def test_a_repeated_document_whose_last_copy_is_the_stored_one_is_unchanged(company, path):
    rows = purchase_rows(3)
    upsert(company, rows)

    counts = upsert(company, [purchase_rows(1, bump=9)[0], *rows])

    assert counts_of(counts) == (0, 0, 3)
    assert stored(company)[1].monto_neto == rows[0]["monto_neto"]


def test_equal_json_dates_and_instants_count_as_unchanged(company, path):
    (row,) = purchase_rows(1)
    at = datetime(2025, 1, 2, 9, 30, tzinfo=ZoneInfo("America/Santiago"))
    upsert(company, [{**row, "received_at": at, "raw": {"a": 1, "b": [1, 2]}}])

    same = {**row, "received_at": at.astimezone(UTC), "issued_on": date(*row["issued_on"].timetuple()[:3])}
    counts = upsert(company, [{**same, "raw": {"b": [1, 2.0], "a": 1.0}}])

    assert counts_of(counts) == (0, 0, 1)


def test_a_changed_json_value_counts_as_updated(company, path):
    (row,) = purchase_rows(1)
    upsert(company, [row])

    counts = upsert(company, [{**row, "raw": {**row["raw"], "detNroDoc": None}}])

    assert counts_of(counts) == (0, 1, 0)
    assert stored(company)[1].raw["detNroDoc"] is None


def test_fields_the_rows_leave_out_get_their_defaults_and_keep_their_values(company, path):
    rows = [{k: v for k, v in row.items() if k != "monto_iva_no_recuperable"} for row in purchase_rows(2)]
    upsert(company, rows)
    PurchaseDocument.objects.filter(company=company, folio=1).update(monto_iva_no_recuperable=500)

    upsert(company, [{**row, "monto_neto": 1} for row in rows])

    assert {folio: doc.monto_iva_no_recuperable for folio, doc in stored(company).items()} == {1: 500, 2: 0}


def test_first_synced_at_survives_an_update_and_changed_at_moves(company, path):
    upsert(company, purchase_rows(1))
    before = PurchaseDocument.objects.get(company=company)

    upsert(company, purchase_rows(1, bump=1))

    after = PurchaseDocument.objects.get(company=company)
    assert after.first_synced_at == before.first_synced_at
    assert after.changed_at > before.changed_at


def test_a_rejected_batch_writes_nothing_and_the_next_one_works(company, path):
    bad = [*purchase_rows(2), {**purchase_rows(3)[2], "counterparty_rut": -1}]
    with pytest.raises(IntegrityError):
        upsert(company, bad)
    assert not PurchaseDocument.objects.filter(company=company).exists()

    assert counts_of(upsert(company, purchase_rows(3))) == (3, 0, 0)


def test_an_empty_batch_does_nothing(company, path):
    with CaptureQueriesContext(connection) as queries:
        counts = upsert(company, [])

    assert counts_of(counts) == (0, 0, 0)
    assert len(queries) == 0


def test_postgresql_merges_every_row_in_one_statement(company):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    with CaptureQueriesContext(connection) as queries:
        counts = upsert(company, purchase_rows(2500), batch_size=100)

    assert counts_of(counts) == (2500, 0, 0)
    assert len([q for q in queries if "INSERT" in q["sql"]]) == 1


def test_the_portable_path_writes_new_rows_in_one_statement_per_batch(company, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with CaptureQueriesContext(connection) as queries:
        # 40 rows of 20 columns stay under SQLite's 999 parameters per statement.
        counts = upsert(company, purchase_rows(120), batch_size=40)

    assert counts_of(counts) == (120, 0, 0)
    assert PurchaseDocument.objects.filter(company=company).count() == 120
    statements = [q["sql"].split()[0] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert statements == ["SELECT", "INSERT"] * 3  # one SELECT of stored rows and one upsert per batch
