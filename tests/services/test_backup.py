"""Backup and restore: back up a database with something in every part, wipe it, restore it, compare every row."""

from __future__ import annotations

import re
import sqlite3
import warnings
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import exc as sa_exc

from kb.backup.service import BackupError, backup_database, restore_database
from kb.database import MIGRATIONS_DIR, schema_revision
from kb.extensions import db
from kb.permissions import ANONYMOUS
from kb.search.lifecycle import index_store
from kb.search.service import SearchRequest, search
from kb.search.storage import CURRENT_FILE
from tests.accounts import Cast, make_user
from tests.backup_data import COMMENT_WORDS, every_row, fill_every_part
from tests.conftest import make_app

BACKUP_SUMMARY = re.compile(r"^Backup finished: (\d+) tables, ([\d,]+) rows at schema (\w+), [\d.,]+ \w+ written to ")
RESTORE_SUMMARY = re.compile(r"^Restore finished: (\d+) tables, ([\d,]+) rows from .+ \(schema (\w+)\)\.$", re.M)


@pytest.fixture(autouse=True)
def _quiet_reflection():
    """Reflecting a functional index (lower(email)) only warns that SQLAlchemy skips it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=sa_exc.SAWarning, message=".*expression-based index")
        yield


def database_file(app: Flask) -> Path:
    return Path(str(db.engine.url.database))


def wipe(app: Flask) -> None:
    """Throw the database file away; the next connection finds an empty database."""
    db.session.remove()
    db.engine.dispose()
    database_file(app).unlink()


def test_backup_wipe_restore_gives_back_every_row(seeded_app: Flask, cast: Cast, tmp_path: Path) -> None:
    fill_every_part(tmp_path / "files", cast)
    before = every_row(db.engine)
    assert all(before[name] for name in ("comments", "findings", "citations", "consultation_answers", "audit_events"))
    steps: list[tuple[int, int]] = []

    report = backup_database(db.engine, tmp_path / "kb-backup.sqlite3", on_progress=lambda *step: steps.append(step))

    assert report.facts.rows == {name: len(rows) for name, rows in before.items()}
    assert steps
    assert steps[-1][0] == steps[-1][1]
    wipe(seeded_app)
    assert every_row(db.engine) == {}
    restored = restore_database(db.engine, tmp_path / "kb-backup.sqlite3")
    assert every_row(db.engine) == before
    assert restored.facts.revision == restored.restored_revision == schema_revision()


def test_the_restore_command_rebuilds_the_search_index(seeded_app: Flask, cast: Cast, tmp_path: Path) -> None:
    fill_every_part(tmp_path / "files", cast)
    runner = seeded_app.test_cli_runner()
    backup = tmp_path / "backups" / "kb.sqlite3"
    made = runner.invoke(args=["backup", str(backup)])
    assert made.exit_code == 0, made.output
    match = BACKUP_SUMMARY.match(made.stdout)
    assert match, made.stdout
    tables, rows = int(match[1]), int(match[2].replace(",", ""))
    wipe(seeded_app)
    store = index_store(seeded_app)
    store.close_searchers()
    (store.root / CURRENT_FILE).unlink()

    restored = runner.invoke(args=["restore", str(backup)])

    assert restored.exit_code == 0, restored.output
    match = RESTORE_SUMMARY.search(restored.stdout)
    assert match, restored.stdout
    assert (int(match[1]), int(match[2].replace(",", ""))) == (tables, rows)
    assert re.search(r"^Search index rebuilt: \d+ entries\.$", restored.stdout, re.M)
    assert [hit.entry.slug for hit in search(ANONYMOUS, SearchRequest(text=f'"{COMMENT_WORDS}"')).hits] == [
        "scripts-need-local-knowledge"
    ]


def test_a_backup_never_replaces_a_file_unless_forced(seeded_app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "kb.sqlite3.bak"
    target.write_text("an older backup")
    runner = seeded_app.test_cli_runner()

    refused = runner.invoke(args=["backup", str(target)])
    itself = runner.invoke(args=["backup", "--force", str(database_file(seeded_app))])

    assert refused.exit_code == 1
    assert f"{target} already exists: choose another name, or add --force to replace it" in refused.stderr
    assert target.read_text() == "an older backup"
    assert itself.exit_code == 1
    assert "is the database itself: give another file name" in itself.stderr
    assert not list(tmp_path.glob("*.partial"))
    forced = runner.invoke(args=["backup", "--force", str(target)])
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes().startswith(b"SQLite format 3\x00")


def test_the_default_backup_goes_to_the_instance_folder(seeded_app: Flask) -> None:
    made = seeded_app.test_cli_runner().invoke(args=["backup"])
    assert made.exit_code == 0, made.output
    written = list((Path(seeded_app.instance_path) / "backups").glob("kb-*Z.sqlite3"))
    assert len(written) == 1
    assert f"written to {written[0]}." in made.stdout


def test_a_backup_holds_only_committed_changes_while_another_writer_is_busy(seeded_app: Flask, tmp_path: Path) -> None:
    writer = sqlite3.connect(database_file(seeded_app), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE entries SET title = 'Not yet saved'")
        report = backup_database(db.engine, tmp_path / "backup.sqlite3")
        writer.execute("COMMIT")
    finally:
        writer.close()
    copy = sqlite3.connect(report.path)
    try:
        titles = {row[0] for row in copy.execute("SELECT title FROM entries")}
    finally:
        copy.close()
    assert "Not yet saved" not in titles
    assert len(titles) > 1


def test_a_database_holding_data_is_replaced_only_when_forced(seeded_app: Flask, cast: Cast, tmp_path: Path) -> None:
    backup = backup_database(db.engine, tmp_path / "backup.sqlite3").path
    before = every_row(db.engine)
    runner = seeded_app.test_cli_runner()

    refused = runner.invoke(args=["restore", str(backup)])

    assert refused.exit_code == 1
    assert re.search(r"the database already holds [\d,]+ rows: add --force", refused.stderr)
    make_user("after-the-backup@example.org")
    forced = runner.invoke(args=["restore", "--force", "--no-rebuild", str(backup)])
    assert forced.exit_code == 0, forced.output
    assert "Search index marked for rebuilding" in forced.stdout
    assert not (index_store(seeded_app).root / CURRENT_FILE).exists()
    assert every_row(db.engine) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PGDMP not really", "is not a SQLite backup made by `flask --app kb backup`"),
        (b"just some text", "is not a SQLite backup made by `flask --app kb backup`"),
    ],
)
def test_a_file_that_is_not_a_sqlite_backup_is_refused(
    app: Flask, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "backup.bin"
    path.write_bytes(content)
    before = every_row(db.engine)
    with pytest.raises(BackupError, match=re.escape(message)):
        restore_database(db.engine, path, force=True)
    assert every_row(db.engine) == before


def test_a_missing_file_and_a_sqlite_file_without_kb_are_refused(app: Flask, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="there is no backup file at"):
        restore_database(db.engine, tmp_path / "nowhere.sqlite3")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(BackupError, match="holds no kb schema"):
        restore_database(db.engine, other)


def test_a_backup_from_a_newer_kb_is_refused(app: Flask, tmp_path: Path) -> None:
    backup = backup_database(db.engine, tmp_path / "backup.sqlite3").path
    with sqlite3.connect(backup) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    with pytest.raises(BackupError, match="at schema ffffffffffff, which this version of kb does not know"):
        restore_database(db.engine, backup, force=True)
    assert schema_revision() != "ffffffffffff"


def test_a_backup_from_an_older_schema_is_upgraded_after_restoring(app: Flask, tmp_path: Path) -> None:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    previous = scripts.get_revision(scripts.get_current_head()).down_revision
    older = make_app(tmp_path / "older", Path(str(db.engine.url.database)))
    with older.app_context():
        db.engine.dispose()
        database_file(older).unlink()
        upgrade(directory=str(MIGRATIONS_DIR), revision=previous)
        backup = backup_database(db.engine, tmp_path / "older.sqlite3").path
        db.engine.dispose()

    report = restore_database(db.engine, backup, force=True)

    assert report.restored_revision == previous
    assert report.facts.revision == schema_revision() == scripts.get_current_head()
    assert f"(schema {previous}, upgraded to {scripts.get_current_head()})." in report.summary()
