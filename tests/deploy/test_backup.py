"""The README's backup and restore: pg_dump's custom format, restored whole by pg_restore."""

import shutil
import subprocess

import psycopg
import pytest
from django.db import connection

from support.waits import scaled
from tests.factories import CompanyFactory, TaskLaunchFactory
from tests.processes import database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),  # committed rows, as pg_dump sees them
    pytest.mark.skipif(not shutil.which("pg_restore"), reason="PostgreSQL's client tools are not installed"),
]


@pytest.fixture
def restored_database():
    """An empty database next to the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    server = database_url(connection.settings_dict).rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def counts(url: str) -> tuple[int, int, list]:
    with psycopg.connect(url) as restored:
        companies = restored.execute("SELECT count(*) FROM sii_company").fetchone()[0]
        launches = restored.execute("SELECT count(*) FROM tasks_api_tasklaunch").fetchone()[0]
        migrations = restored.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
    return companies, launches, migrations


def test_a_dump_restores_every_row_and_the_migration_history_and_restores_again_over_itself(
    tmp_path, restored_database
):
    CompanyFactory.create_batch(3)
    TaskLaunchFactory.create_batch(2)
    dump = tmp_path / "sii-tasks.dump"
    source = database_url(connection.settings_dict)

    run("pg_dump", "--format=custom", f"--file={dump}", source)
    run("pg_restore", "--no-owner", f"--dbname={restored_database}", str(dump))
    assert counts(restored_database) == counts(source)

    with psycopg.connect(restored_database, autocommit=True) as restored:
        restored.execute("DELETE FROM sii_subscription; DELETE FROM sii_company")
    run("pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={restored_database}", str(dump))

    assert counts(restored_database)[0] == 3


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=scaled(120))
    assert done.returncode == 0, done.stderr
