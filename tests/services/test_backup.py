"""Backup and restore: back up a database with something in every part, wipe it, restore it, compare every row."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import tarfile
import uuid
import warnings
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import MetaData, select, text, update
from sqlalchemy import exc as sa_exc

from kb import create_app
from kb.backup import sqlite as backup_sqlite
from kb.backup.archive import DATABASE_MEMBERS, read_manifest
from kb.backup.service import SUFFIXES, BackupError, backup_database, restore_database
from kb.database import MIGRATIONS_DIR, schema_revision
from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import ANONYMOUS
from kb.search.backend import index_store
from kb.search.service import SearchRequest, SearchUnavailableError, search
from kb.search.storage import CURRENT_FILE
from tests.accounts import Cast, make_user
from tests.backup_data import COMMENT_WORDS, every_row, fill_every_part
from tests.conftest import make_app

BACKUP_SUMMARY = re.compile(
    r"^Backup finished: (\d+) tables(?:, [\d,]+ rows)? at schema (\w+), [\d,]+ documents?, [\d.,]+ \w+ written to "
)
RESTORE_SUMMARY = re.compile(
    r"^Restore finished: (\d+) tables, ([\d,]+) rows, [\d,]+ documents? from .+ \(schema (\w+)\)\.$", re.M
)


@pytest.fixture(autouse=True)
def _quiet_reflection():
    """Reflecting a functional index (lower(email)) only warns that SQLAlchemy skips it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=sa_exc.SAWarning, message=".*expression-based index")
        yield


def database_file(app: Flask) -> Path:
    return Path(str(db.engine.url.database))


def kind() -> str:
    """The kind of database the suite runs on: "sqlite" or "postgresql"."""
    return db.engine.url.get_backend_name()


def backup_name(folder: Path, stem: str = "backup") -> Path:
    return folder / f"{stem}{SUFFIXES[kind()]}"


def database_in(backup: Path, folder: Path) -> Path:
    """The database copy inside a backup archive, taken out into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    name = DATABASE_MEMBERS[kind()]
    with tarfile.open(backup) as tar, tar.extractfile(name) as member:  # type: ignore[union-attr]
        (folder / name).write_bytes(member.read())
    return folder / name


def wipe() -> None:
    """Drop every table; the database is then as empty as a new one."""
    db.session.remove()
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    metadata.drop_all(bind=db.engine)
    db.engine.dispose()


MAGIC = {"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}
sqlite_only = pytest.mark.skipif(
    os.environ.get("KB_TEST_DATABASE", "sqlite").strip().lower() == "postgresql",
    reason="edits a SQLite file directly; the PostgreSQL pass covers the rest of backup and restore",
)


def test_backup_wipe_restore_gives_back_every_row(seeded_app: Flask, cast: Cast, tmp_path: Path) -> None:
    fill_every_part(tmp_path / "files", cast)
    before = every_row(db.engine)
    assert all(before[name] for name in ("comments", "findings", "citations", "consultation_answers", "audit_events"))
    steps: list[tuple[int, int]] = []

    report = backup_database(db.engine, backup_name(tmp_path), on_progress=lambda *step: steps.append(step))

    assert set(report.facts.rows) == set(before)
    if kind() == "sqlite":
        assert report.facts.rows == {name: len(rows) for name, rows in before.items()}
    assert steps
    assert steps[-1][0] == steps[-1][1]
    wipe()
    assert every_row(db.engine) == {}
    restored = restore_database(db.engine, report.path)
    assert every_row(db.engine) == before
    assert restored.facts.revision == restored.restored_revision == schema_revision()


def test_the_restore_command_rebuilds_the_search_index(seeded_app: Flask, cast: Cast, tmp_path: Path) -> None:
    fill_every_part(tmp_path / "files", cast)
    runner = seeded_app.test_cli_runner()
    backup = backup_name(tmp_path / "backups")
    made = runner.invoke(args=["backup", str(backup)])
    assert made.exit_code == 0, made.output
    match = BACKUP_SUMMARY.match(made.stdout)
    assert match, made.stdout
    tables = int(match[1])
    rows = sum(len(table) for name, table in every_row(db.engine).items() if name != "alembic_version")
    wipe()
    store = index_store(seeded_app)
    store.close_searchers()
    (store.root / CURRENT_FILE).unlink(missing_ok=True)

    restored = runner.invoke(args=["restore", str(backup)])

    assert restored.exit_code == 0, restored.output
    match = RESTORE_SUMMARY.search(restored.stdout)
    assert match, restored.stdout
    assert (int(match[1]), int(match[2].replace(",", ""))) == (tables, rows)
    assert re.search(r"^Search index rebuilt: \d+ entries, now in use", restored.stdout, re.M)
    assert [hit.entry.slug for hit in search(ANONYMOUS, SearchRequest(text=f'"{COMMENT_WORDS}"')).hits] == [
        "scripts-need-local-knowledge"
    ]


def test_a_backup_never_replaces_a_file_unless_forced(seeded_app: Flask, tmp_path: Path) -> None:
    target = backup_name(tmp_path)
    target.write_text("an older backup")
    runner = seeded_app.test_cli_runner()

    refused = runner.invoke(args=["backup", str(target)])

    assert refused.exit_code == 1
    assert f"{target} already exists: choose another name, or add --force to replace it" in refused.stderr
    assert target.read_text() == "an older backup"
    assert not list(tmp_path.glob("*.partial"))
    forced = runner.invoke(args=["backup", "--force", str(target)])
    assert forced.exit_code == 0, forced.output
    assert read_manifest(target).kind == kind()
    assert database_in(target, tmp_path / "copy").read_bytes().startswith(MAGIC[kind()])


def test_the_default_backup_goes_to_the_instance_folder(seeded_app: Flask) -> None:
    made = seeded_app.test_cli_runner().invoke(args=["backup"])
    assert made.exit_code == 0, made.output
    written = list((Path(seeded_app.instance_path) / "backups").glob(f"kb-*Z{SUFFIXES[kind()]}"))
    assert len(written) == 1
    assert f"written to {written[0]}." in made.stdout
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o600


def test_a_backup_holds_only_committed_changes_while_another_writer_is_busy(seeded_app: Flask, tmp_path: Path) -> None:
    with db.engine.connect() as writer:
        writer.execute(update(Entry).values(title="Not yet saved"))
        report = backup_database(db.engine, backup_name(tmp_path))
        writer.rollback()
    db.session.remove()

    restore_database(db.engine, report.path, force=True)

    titles = set(db.session.scalars(select(Entry.title)))
    assert "Not yet saved" not in titles
    assert len(titles) > 1


def test_a_database_holding_data_is_replaced_only_when_forced(seeded_app: Flask, cast: Cast, tmp_path: Path) -> None:
    backup = backup_database(db.engine, backup_name(tmp_path)).path
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
    title = db.session.scalars(select(Entry.title).where(Entry.visibility == "public").order_by(Entry.id)).first()
    with pytest.raises(SearchUnavailableError):
        search(ANONYMOUS, SearchRequest(text=f'"{title}"'))
    assert search(ANONYMOUS, SearchRequest(text=f'"{title}"')).total >= 1


@pytest.mark.parametrize("content", [b"SQLite format 3\x00 not really", b"PGDMP not really", b"just some text"])
def test_a_file_of_another_kind_is_refused(app: Flask, tmp_path: Path, content: bytes) -> None:
    if content.startswith(MAGIC[kind()]):
        content = b"just some text"
    path = tmp_path / "backup.bin"
    path.write_bytes(content)
    before = every_row(db.engine)
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind()]
    with pytest.raises(BackupError, match=re.escape(f"is not a {label} backup made by `flask --app kb backup`")):
        restore_database(db.engine, path, force=True)
    assert every_row(db.engine) == before


def test_a_missing_file_is_refused(app: Flask, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="there is no backup file at"):
        restore_database(db.engine, tmp_path / "nowhere.sqlite3")


@sqlite_only
def test_a_backup_finishes_while_the_site_keeps_writing(
    seeded_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_sqlite, "PAGES_PER_STEP", 2)
    writer = sqlite3.connect(database_file(seeded_app), isolation_level=None)
    saves: list[int] = []

    def save_between_steps(done: int, total: int) -> None:
        saves.append(done)
        writer.execute("UPDATE entries SET title = ? WHERE id = (SELECT min(id) FROM entries)", (f"Save {len(saves)}",))

    try:
        report = backup_database(db.engine, backup_name(tmp_path), on_progress=save_between_steps)
    finally:
        writer.close()
    # Each save made the copy start again; after the restarts allowed it was done in one
    # step, which holds every save but the one made after it.
    assert saves[-1] > saves[0]
    assert len(saves) == 1 + backup_sqlite.RESTARTS_ALLOWED + 1
    with sqlite3.connect(database_in(report.path, tmp_path / "copy")) as copy:
        title = copy.execute("SELECT title FROM entries ORDER BY id LIMIT 1").fetchone()[0]
    assert title == f"Save {len(saves) - 1}"


@sqlite_only
def test_a_sqlite_file_without_kb_is_refused(app: Flask, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(BackupError, match="holds no kb schema"):
        restore_database(db.engine, other)


@sqlite_only
def test_a_backup_is_never_written_over_the_database_itself(app: Flask) -> None:
    with pytest.raises(BackupError, match="is the database itself: give another file name"):
        backup_database(db.engine, database_file(app), force=True)


@sqlite_only
def test_a_backup_from_a_newer_kb_is_refused(app: Flask, tmp_path: Path) -> None:
    archive = backup_database(db.engine, tmp_path / "backup.sqlite3.tar").path
    backup = database_in(archive, tmp_path / "copy")  # A bare database file, as kb wrote before documents.
    with sqlite3.connect(backup) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    with pytest.raises(BackupError, match="at schema ffffffffffff, which this version of kb does not know"):
        restore_database(db.engine, backup, force=True)
    assert schema_revision() != "ffffffffffff"


@sqlite_only
def test_a_backup_from_an_older_schema_is_upgraded_after_restoring(app: Flask, tmp_path: Path) -> None:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    previous = scripts.get_revision(scripts.get_current_head()).down_revision
    older = make_app(tmp_path / "older", Path(str(db.engine.url.database)))
    with older.app_context():
        db.engine.dispose()
        database_file(older).unlink()
        upgrade(directory=str(MIGRATIONS_DIR), revision=previous)
        backup = backup_database(db.engine, tmp_path / "older.sqlite3.tar").path
        db.engine.dispose()

    report = restore_database(db.engine, backup, force=True)

    assert report.restored_revision == previous
    assert report.facts.revision == schema_revision() == scripts.get_current_head()
    assert f"(schema {previous}, upgraded to {scripts.get_current_head()})." in report.summary()


def test_a_damaged_backup_is_refused_and_the_database_left_as_it_was(seeded_app: Flask, tmp_path: Path) -> None:
    backup = backup_database(db.engine, backup_name(tmp_path)).path
    whole = backup.read_bytes()
    backup.write_bytes(whole[: len(whole) // 3])
    before = every_row(db.engine)
    db.session.remove()
    with pytest.raises(BackupError, match=r"cannot be read|is damaged|failed"):
        restore_database(db.engine, backup, force=True)
    assert every_row(db.engine) == before


postgres_only = pytest.mark.skipif(
    os.environ.get("KB_TEST_DATABASE", "sqlite").strip().lower() != "postgresql",
    reason="restores pg_dump archives of other schemas; runs in the PostgreSQL pass",
)


def backup_of_another_database(tmp_path: Path, revision: str, *, claim: str | None = None) -> Path:
    """A pg_dump archive of a new database on the same server migrated to `revision` (claiming `claim`, if given)."""
    name = f"kb_other_{uuid.uuid4().hex[:8]}"
    server = db.engine.url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    other = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "other",
            "SQLALCHEMY_DATABASE_URI": db.engine.url.set(database=name).render_as_string(hide_password=False),
            "SEARCH_INDEX_DIR": str(tmp_path / "other" / "search_index"),
            "SECRET_KEY": "test-secret-key",
            "AUTO_MIGRATE": False,
        }
    )
    try:
        with other.app_context():
            upgrade(directory=str(MIGRATIONS_DIR), revision=revision)
            if claim is not None:
                with db.engine.begin() as connection:
                    connection.execute(text("UPDATE alembic_version SET version_num = :claim"), {"claim": claim})
            path = backup_database(db.engine, tmp_path / f"{name}.dump.tar").path
            db.engine.dispose()
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    return path


@postgres_only
def test_an_archive_of_an_older_schema_replaces_newer_tables_and_is_upgraded(app: Flask, tmp_path: Path) -> None:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    head = scripts.get_current_head()
    previous = scripts.get_revision(head).down_revision
    backup = backup_of_another_database(tmp_path, previous)
    db.session.remove()

    report = restore_database(db.engine, backup)

    assert report.restored_revision == previous
    assert report.facts.revision == schema_revision() == head
    assert f"(schema {previous}, upgraded to {head})." in report.summary()


@postgres_only
def test_an_archive_from_a_newer_kb_is_refused(app: Flask, tmp_path: Path) -> None:
    backup = backup_of_another_database(tmp_path, "head", claim="ffffffffffff")
    before = every_row(db.engine)
    with pytest.raises(BackupError, match="at schema ffffffffffff, which this version of kb does not know"):
        restore_database(db.engine, backup, force=True)
    assert every_row(db.engine) == before
