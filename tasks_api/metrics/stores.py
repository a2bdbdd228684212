"""Where every process's counts add up: a Redis hash, else a database table.

Redis when one is configured (settings.TASKS_API_METRICS_REDIS_URL: REDIS_URL, else the broker
when it is Redis); else the database (the embedded default, RabbitMQ without Redis), with an
upsert that adds on conflict (PostgreSQL and SQLite both have it).
"""

from typing import Protocol

from django.conf import settings
from django.db import connection, transaction

from tasks_api.redis_clients import redis_client, server_guard

REDIS_KEY = "tasks_api:metrics"
# Rows per upsert statement.
UPSERT_BATCH = 500


class MetricsStore(Protocol):
    def add(self, increments: dict[str, float]) -> None: ...
    def read(self) -> dict[str, float]: ...


class RedisMetricsStore:
    # A Redis that failed moments ago is not waited on again (tasks_api.redis_clients): a flush
    # keeps its counts for later, a scrape fails at once.
    def __init__(self, url: str) -> None:
        self.url, self.client = url, redis_client(url)

    def add(self, increments: dict[str, float]) -> None:
        # MULTI/EXEC: all or nothing, so a flush retried after an error never counts twice.
        with server_guard(self.url), self.client.pipeline(transaction=True) as pipe:
            for key, amount in increments.items():
                pipe.hincrbyfloat(REDIS_KEY, key, amount)
            pipe.execute()

    def read(self) -> dict[str, float]:
        with server_guard(self.url):
            raw: dict[bytes, bytes] = self.client.hgetall(REDIS_KEY)  # type: ignore[assignment]  # a sync client's answer
        return {key.decode(): float(value) for key, value in raw.items()}


class DatabaseMetricsStore:
    def add(self, increments: dict[str, float]) -> None:
        # Sorted keys: two processes upserting the same rows lock them in the same order.
        items = sorted(increments.items())
        with transaction.atomic():
            for start in range(0, len(items), UPSERT_BATCH):
                batch = items[start : start + UPSERT_BATCH]
                with connection.cursor() as cursor:
                    cursor.execute(_upsert_sql(len(batch)), [value for item in batch for value in item])

    def read(self) -> dict[str, float]:
        from tasks_api.models import MetricSample  # see _upsert_sql

        return dict(MetricSample.objects.values_list("key", "value"))


def _upsert_sql(rows: int) -> str:
    # Imported here: code that counts (the SII client) may be imported before Django's apps load.
    from tasks_api.models import MetricSample

    table = connection.ops.quote_name(MetricSample._meta.db_table)
    key, value = connection.ops.quote_name("key"), connection.ops.quote_name("value")
    values = ", ".join(["(%s, %s)"] * rows)
    return (
        f"INSERT INTO {table} ({key}, {value}) VALUES {values} "  # noqa: S608 (names from the model; values are parameters)
        f"ON CONFLICT ({key}) DO UPDATE SET {value} = {table}.{value} + EXCLUDED.{value}"
    )


def metrics_store() -> MetricsStore:
    """The store this process's settings name."""
    url = settings.TASKS_API_METRICS_REDIS_URL
    return RedisMetricsStore(url) if url else DatabaseMetricsStore()
