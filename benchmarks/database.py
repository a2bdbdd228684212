"""A benchmark's own PostgreSQL database, dropped and created again on every run."""

import os

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sii_tasks"


def bench_database_use(*, name: str) -> None:
    """Re-create database `name` on DATABASE_URL's server and point DATABASE_URL (and Django) at it."""
    import psycopg

    server = os.environ.get("DATABASE_URL", DEFAULT_URL).rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{server}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def bench_database_drop(*, name: str) -> None:
    """Drop database `name` on DATABASE_URL's server, whoever is still connected to it."""
    import psycopg

    server = os.environ.get("DATABASE_URL", DEFAULT_URL).rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
