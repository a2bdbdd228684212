"""Hot-path reads in one hand-written statement, with rows turned into model instances as the ORM would.

The status poll and API authentication run on every request; compiling their ORM queries cost
more CPU than everything else the request does (about 1 ms per query against 0.1 ms for the same
statement written out), and an ORM query cannot LEFT JOIN two tables that share a key but no
foreign key (a launch record and its result). `ModelColumns` writes a model's column list for a
join and loads its slice of a row through the same converters the ORM applies.
"""

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, cast

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import Col


class ModelColumns:
    """All concrete columns of `model`, selected under the table alias `alias`."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model, self.alias = model, alias
        self.fields = tuple(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self._pk_position = self.attnames.index(model._meta.pk.attname)
        # Concrete fields always have a column (the stubs allow None for other kinds).
        self._columns_by_name = {field.name: cast(str, field.column) for field in self.fields}

    @property
    def width(self) -> int:
        return len(self.fields)

    @property
    def table(self) -> str:
        """`table AS alias`, for a FROM or JOIN clause."""
        return f"{connection.ops.quote_name(self.model._meta.db_table)} AS {self.alias}"

    def column(self, name: str) -> str:
        """One column (by field name) under the alias."""
        return f"{self.alias}.{connection.ops.quote_name(self._columns_by_name[name])}"

    @cached_property
    def select(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(column)}" for column in self._columns_by_name.values())

    @cached_property
    def _converters(self) -> list[list[Callable]]:
        # What SQLCompiler.get_converters gathers: the backend's, then the field's own.
        return [
            connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            for column in self._columns
        ]

    @cached_property
    def _columns(self) -> list[Col]:
        return [Col(self.alias, field) for field in self.fields]

    def load(self, values: Sequence[Any]) -> Any:
        """The model instance for this model's slice of a row; None when its primary key is NULL
        (a LEFT JOIN that found nothing)."""
        converted = []
        for column, value, converters in zip(self._columns, values, self._converters, strict=True):
            for convert in converters:
                value = convert(value, column, connection)
            converted.append(value)
        if converted[self._pk_position] is None:
            return None
        return self.model.from_db(connection.alias, self.attnames, converted)


def fetch_one(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
