"""Batch upserts of synced SII rows that count what they created, changed and left alone."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connections, models, router, transaction
from django.utils import timezone

from sii.services.upserts_postgres import rows_merge


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def __iadd__(self, other: "UpsertCounts") -> "UpsertCounts":
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def rows_upsert(
    *,
    model: type[models.Model],
    company,
    rows: Sequence[dict],
    key_fields: Sequence[str],
    batch_size: int = 1000,
) -> UpsertCounts:
    """Insert new rows and update changed ones; when a key repeats, its last row wins.

    Unchanged rows are not written, so a re-sync of the same data writes nothing. PostgreSQL
    takes every row in one COPY and one merge; other databases (SQLite, the embedded default)
    compare in Python and write with INSERT ... ON CONFLICT DO UPDATE, `batch_size` rows at a time.
    """
    unique = _dedupe(rows, key_fields)
    connection = connections[router.db_for_write(model)]
    if not unique:
        return UpsertCounts()
    if connection.vendor == "postgresql":
        created, updated = rows_merge(
            connection=connection, model=model, company=company, rows=unique, key_fields=key_fields
        )
        return UpsertCounts(created=created, updated=updated, unchanged=len(unique) - created - updated)
    return rows_upsert_compared(
        model=model, company=company, rows=unique, key_fields=key_fields, batch_size=batch_size
    )


def rows_upsert_compared(
    *, model: type[models.Model], company, rows: list[dict], key_fields: Sequence[str], batch_size: int
) -> UpsertCounts:
    """The portable path for rows with unique keys: per batch, one SELECT and at most one upsert."""
    counts = UpsertCounts()
    with transaction.atomic(using=router.db_for_write(model)):  # all or nothing, as on PostgreSQL
        for batch in _chunks(rows, batch_size):
            counts += _upsert_batch(model, company, batch, key_fields)
    return counts


def _upsert_batch(model, company, batch: list[dict], key_fields: Sequence[str]) -> UpsertCounts:
    stored = _stored_values(model, company, batch, key_fields)
    to_write, counts = [], UpsertCounts()
    for row in batch:
        before = stored.get(_key(row, key_fields))
        if before == row:
            counts.unchanged += 1
            continue
        counts.created += before is None
        counts.updated += before is not None
        to_write.append(model(company=company, changed_at=timezone.now(), **row))
    if to_write:
        model.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["company", *key_fields],
            update_fields=[f for f in batch[0] if f not in key_fields] + ["changed_at"],
        )
    return counts


def _stored_values(model, company, batch: list[dict], key_fields: Sequence[str]) -> dict[tuple, dict]:
    fields = list(batch[0])
    # Narrow by the most selective key field (the last one: folio, numero, tipo_doc ...).
    narrow = {f"{key_fields[-1]}__in": {row[key_fields[-1]] for row in batch}}
    stored = model.objects.filter(company=company, **narrow).values(*fields)
    return {_key(row, key_fields): row for row in stored}


def _key(row: dict, key_fields: Sequence[str]) -> tuple:
    return tuple(row[f] for f in key_fields)


def _dedupe(rows: Iterable[dict], key_fields: Sequence[str]) -> list[dict]:
    # One statement cannot update the same row twice (PostgreSQL refuses); the last row wins.
    return list({_key(row, key_fields): row for row in rows}.values())


def _chunks(rows: list[dict], size: int) -> Iterable[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
