"""Which database errors are outages (503) and which are faults in kb (500): kb.unavailable.is_outage."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import exc

from kb.config import engine_options
from kb.unavailable import is_outage


def operational(original: Exception, *, invalidated: bool = False) -> exc.OperationalError:
    return exc.OperationalError("SELECT 1", {}, original, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "message",
    [
        "unable to open database file",
        "database is locked",
        "disk I/O error",
        "database or disk is full",
        "attempt to write a readonly database",
    ],
)
def test_sqlite_trouble_with_the_file_is_an_outage(message):
    assert is_outage(operational(sqlite3.OperationalError(message)))


@pytest.mark.parametrize("message", ["no such table: no_such_table", "no such column: x", 'near "SELEC": syntax error'])
def test_sql_that_sqlite_cannot_run_is_a_fault(message):
    assert not is_outage(operational(sqlite3.OperationalError(message)))


def test_a_connection_lost_mid_query_is_an_outage_whatever_the_message():
    assert is_outage(operational(sqlite3.OperationalError("no such table: x"), invalidated=True))


def test_postgresql_connection_failures_are_outages():
    assert is_outage(operational(psycopg.OperationalError("connection failed: Connection refused")))
    assert is_outage(exc.InterfaceError("SELECT 1", {}, psycopg.InterfaceError("the connection is closed")))
    assert is_outage(exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"))


def test_other_database_errors_are_faults():
    assert not is_outage(exc.ProgrammingError("SELECT", {}, psycopg.ProgrammingError("relation does not exist")))
    assert not is_outage(exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")))


def test_a_postgresql_connection_gives_up_after_seconds_unless_the_address_says_otherwise():
    options = engine_options("postgresql+psycopg://kb@db/kb")
    assert options["pool_pre_ping"] is True
    assert options["connect_args"] == {"connect_timeout": 5}
    assert "connect_args" not in engine_options("postgresql+psycopg://kb@db/kb?connect_timeout=20")
    assert engine_options("sqlite:///kb.sqlite3") == {}
