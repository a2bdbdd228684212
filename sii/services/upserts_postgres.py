"""PostgreSQL upserts: COPY the rows into a temporary table, then merge them in one statement."""

from collections.abc import Sequence
from datetime import date

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

STAGE = "sii_upsert_stage"
# Exact types whose values get_db_prep_save would copy unchanged (COPY writes them as text).
_INTEGER = ("IntegerField", "BigIntegerField", "SmallIntegerField")
READY: dict[str, tuple[type, ...]] = {
    **{name: (int,) for name in (*_INTEGER, *(f"Positive{n}" for n in _INTEGER))},
    "CharField": (str,),
    "TextField": (str,),
    "BooleanField": (bool,),
    "DateField": (date,),
}


def rows_merge(
    *,
    connection: BaseDatabaseWrapper,
    model: type[models.Model],
    company: models.Model,
    rows: Sequence[dict],
    key_fields: Sequence[str],
) -> tuple[int, int]:
    """Upsert `rows` (unique keys, the same fields each) and return (created, updated).

    Rows equal to the stored ones are neither written nor locked: a re-sync writes nothing.
    """
    fields = [model._meta.get_field(name) for name in rows[0]]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(_stage_sql(fields, connection))
        _copy(cursor, fields, rows, connection)
        cursor.execute(*_merge_sql(model, company, fields, key_fields, connection))
        created, updated = cursor.fetchone()
        # Dropped now, not at commit: a caller's surrounding transaction may upsert again.
        cursor.execute(f"DROP TABLE {STAGE}")
    return created, updated


def _stage_sql(fields: list, connection: BaseDatabaseWrapper) -> str:
    columns = ", ".join(f"{_quote(f.column)} {f.db_type(connection)}" for f in fields)
    return f"CREATE TEMPORARY TABLE {STAGE} ({columns}) ON COMMIT DROP"


def _copy(cursor, fields: list, rows: Sequence[dict], connection: BaseDatabaseWrapper) -> None:
    prepared = [_prepared([row[f.name] for row in rows], f, connection) for f in fields]
    columns = ", ".join(_quote(f.column) for f in fields)
    with cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
        for values in zip(*prepared, strict=True):
            copy.write_row(values)


def _prepared(values: list, field: models.Field, connection: BaseDatabaseWrapper) -> list:
    """A column's values as Django would save them; values already in that shape skip the call."""
    ready = (type(None), *READY.get(field.get_internal_type(), ()))
    prepare = field.get_db_prep_save
    return [value if type(value) in ready else prepare(value, connection) for value in values]


# Rows equal to the stored ones are filtered out before the INSERT, so they are not even locked
# (ON CONFLICT ... WHERE would lock them); its WHERE still guards against a concurrent change.
MERGE = """
    WITH merged AS (
        INSERT INTO {table} AS stored ({targets})
        SELECT {staged}, {constants} FROM {stage} AS staged
        LEFT JOIN {table} AS old ON old.{company} = %s AND {join}
        WHERE old.{pk} IS NULL OR ({old}) IS DISTINCT FROM ({new})
        ON CONFLICT ({company}, {keys}) DO UPDATE SET {assignments}
        WHERE ({stored}) IS DISTINCT FROM ({excluded})
        RETURNING stored.xmax = 0 AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
"""


def _merge_sql(model, company, fields: list, key_fields: Sequence[str], connection) -> tuple[str, list]:
    """The INSERT ... SELECT ... ON CONFLICT DO UPDATE returning (created, updated), and its params."""
    meta = model._meta
    keys = [meta.get_field(name).column for name in key_fields]
    compared = [f.column for f in fields if f.name not in key_fields]
    constants = _constants(model, company, {f.name for f in fields}, connection)
    changed_at = meta.get_field("changed_at").column
    sql = MERGE.format(
        table=_quote(meta.db_table),
        targets=_list([f.column for f in fields] + [f.column for f, _ in constants]),
        staged=_list([f.column for f in fields], "staged."),
        constants=", ".join(f"%s::{f.db_type(connection)}" for f, _ in constants),
        stage=STAGE,
        company=_quote(meta.get_field("company").column),
        join=" AND ".join(f"old.{_quote(c)} = staged.{_quote(c)}" for c in keys),
        pk=_quote(meta.pk.column),
        old=_list(compared, "old."),
        new=_list(compared, "staged."),
        keys=_list(keys),
        assignments=", ".join(f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in [*compared, changed_at]),
        stored=_list(compared, "stored."),
        excluded=_list(compared, "EXCLUDED."),
    )
    return sql, [value for _, value in constants] + [company.pk]


def _constants(model, company, given: set[str], connection) -> list[tuple]:
    """The columns the rows leave out: the company, changed_at, and the other fields' defaults."""
    now = timezone.now()
    values = {"company": company.pk, "changed_at": now, "first_synced_at": now}
    return [
        (f, f.get_db_prep_save(values[f.name] if f.name in values else f.get_default(), connection))
        for f in model._meta.concrete_fields
        if f.name not in given and not f.primary_key
    ]


def _list(columns, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{_quote(c)}" for c in columns)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
