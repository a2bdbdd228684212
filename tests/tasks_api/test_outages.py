"""What counts as a database outage, and how a write waits for the database to come back."""

import sqlite3

import psycopg
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction

from tasks_api import outages


def django_error(cause: BaseException, kind: type[DatabaseError] = OperationalError) -> DatabaseError:
    """The error Django raises for the driver's `cause` (it chains the driver's error)."""
    error = kind(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.OperationalError("connection failed: Connection refused"),  # no SQLSTATE: never connected
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.ConnectionFailure("server closed the connection unexpectedly"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        sqlite3.OperationalError("database is locked"),
    ],
    ids=lambda cause: type(cause).__name__ + ": " + str(cause)[:30],
)
def test_an_unreachable_restarting_or_busy_database_is_an_outage(cause):
    assert outages.is_transient_database_error(django_error(cause))


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.UndefinedTable('relation "sii_company" does not exist'),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        sqlite3.OperationalError("no such table: sii_company"),
    ],
    ids=lambda cause: type(cause).__name__ + ": " + str(cause)[:30],
)
def test_a_missing_table_or_a_statement_timeout_is_not_an_outage(cause):
    assert not outages.is_transient_database_error(django_error(cause))


def test_a_closed_connection_is_an_outage_and_a_broken_constraint_is_not():
    assert outages.is_transient_database_error(InterfaceError("connection already closed"))
    assert not outages.is_transient_database_error(IntegrityError("duplicate key"))


@pytest.mark.django_db
def test_a_wait_inside_a_transaction_gives_up_at_once(monkeypatch):
    monkeypatch.setattr(outages.time, "sleep", lambda seconds: pytest.fail("slept inside a transaction"))

    with transaction.atomic():
        assert outages.outage_pause(attempt=0, deadline=outages.outage_deadline()) is False


def test_a_wait_the_task_s_soft_time_limit_interrupts_gives_up_instead_of_failing_the_run(monkeypatch):
    def interrupted(seconds):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(outages.time, "sleep", interrupted)

    assert outages.outage_pause(attempt=0, deadline=outages.outage_deadline()) is False
