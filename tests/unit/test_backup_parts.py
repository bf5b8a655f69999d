"""The parts of backup and restore that need no database: names, kinds, facts, and the PostgreSQL tools' arguments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kb.backup.facts import TableFacts
from kb.backup.postgres import PostgresBackupError, find_tool, is_archive, libpq_target
from kb.backup.service import BackupError, BackupReport, RestoreReport, database_kind, default_backup_path
from kb.backup.sqlite import is_sqlite_file

NOW = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("sqlite:////srv/kb/kb.sqlite3", "kb-20260304T050607Z.sqlite3.tar"),
        ("postgresql+psycopg://kb:secret@db.example.org/kb", "kb-20260304T050607Z.dump.tar"),
        ("postgresql://kb@localhost/kb", "kb-20260304T050607Z.dump.tar"),
    ],
)
def test_the_default_name_says_when_and_what(uri: str, name: str) -> None:
    assert default_backup_path(Path("/srv/kb/instance"), make_url(uri), NOW) == Path("/srv/kb/instance/backups") / name


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("sqlite://", "an in-memory SQLite database cannot be backed up"),
        ("sqlite:///:memory:", "an in-memory SQLite database cannot be backed up"),
        ("mysql://kb@localhost/kb", "for SQLite and PostgreSQL only, not mysql"),
    ],
)
def test_other_databases_are_refused(uri: str, message: str) -> None:
    with pytest.raises(BackupError, match=message):
        database_kind(make_url(uri))


def test_the_password_goes_in_the_environment_not_on_the_command_line() -> None:
    uri, environment = libpq_target(
        make_url("postgresql+psycopg://kb:s3cret%40x@db.example.org:5433/kb?sslmode=require")
    )
    assert uri == "postgresql://kb@db.example.org:5433/kb?sslmode=require"
    assert environment["PGPASSWORD"] == "s3cret@x"


def test_without_a_password_none_is_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    uri, environment = libpq_target(make_url("postgresql://kb@localhost/kb"))
    assert uri == "postgresql://kb@localhost/kb"
    assert "PGPASSWORD" not in environment


def test_a_given_tool_folder_is_used_or_named_when_the_tool_is_not_there(tmp_path: Path) -> None:
    tool = tmp_path / "pg_dump"
    tool.write_text("#!/bin/sh\n")
    assert find_tool("pg_dump", str(tmp_path)) == tool
    with pytest.raises(PostgresBackupError, match=f"pg_restore is not in {tmp_path}"):
        find_tool("pg_restore", str(tmp_path))


def test_files_are_told_apart_by_their_first_bytes(tmp_path: Path) -> None:
    sqlite_file, archive, text = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    sqlite_file.write_bytes(b"SQLite format 3\x00" + bytes(100))
    archive.write_bytes(b"PGDMP\x01\x0e")
    text.write_text("SQLite format 3")
    assert [is_sqlite_file(path) for path in (sqlite_file, archive, text)] == [True, False, False]
    assert [is_archive(path) for path in (sqlite_file, archive, text)] == [False, True, False]


def test_facts_leave_the_migrations_bookkeeping_out_of_the_rows() -> None:
    facts = TableFacts(revision="abc", rows={"alembic_version": 1, "entries": 3, "users": 0})
    assert (facts.tables, facts.total_rows, facts.holds_data()) == (3, 3, True)
    assert not TableFacts(revision="abc", rows={"alembic_version": 1, "entries": 0}).holds_data()
    assert not TableFacts(revision="abc", rows={"alembic_version": 1, "regions": 14, "entries": 0}).holds_data()


def test_the_summaries_say_what_was_written_and_restored() -> None:
    facts = TableFacts(revision="abc", rows={"alembic_version": 1, "entries": 1234})
    written = BackupReport(path=Path("/b/kb.tar"), kind="sqlite", facts=facts, size=3 * 1024 * 1024 + 1, documents=1)
    assert written.summary() == (
        "Backup finished: 2 tables, 1,234 rows at schema abc, 1 document, 3.0 MB written to /b/kb.tar."
    )
    dumped = BackupReport(path=Path("/b/kb.tar"), kind="postgresql", facts=facts, size=900, documents=1200)
    assert dumped.summary() == (
        "Backup finished: 2 tables at schema abc, 1,200 documents, 900 bytes written to /b/kb.tar."
    )
    upgraded = RestoreReport(path=Path("/b/kb.tar"), restored_revision="old", facts=facts, documents=2)
    assert upgraded.summary() == (
        "Restore finished: 2 tables, 1,234 rows, 2 documents from /b/kb.tar (schema old, upgraded to abc)."
    )
    same = RestoreReport(path=Path("/b/kb.dump"), restored_revision="abc", facts=facts)
    assert same.summary() == "Restore finished: 2 tables, 1,234 rows, 0 documents from /b/kb.dump (schema abc)."
