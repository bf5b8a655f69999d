"""Backup and restore of the app's database and documents, on SQLite or PostgreSQL, with the checks around them.

A backup is one tar archive (`kb.backup.archive`): the database copy, every document's
bytes and a manifest with their checksums. It is written beside its destination under a
temporary name and renamed into place only when it is complete, so a failed backup never
leaves a partial file where a good one is expected, and an existing file is replaced only
when asked to. A restore first checks that the archive is whole, that it holds the same
kind of database, made by this or an older version of kb, and that the database it
replaces holds nothing (unless asked to replace it); afterwards the schema is upgraded to
the current migration. A bare database file, as older versions of kb wrote, is restored
as before, without documents.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, func, inspect, select, table
from sqlalchemy.engine import URL

from kb.backup import archive, postgres, sqlite
from kb.backup.facts import TableFacts
from kb.database import MIGRATIONS_DIR, schema_revision, upgrade_database
from kb.documents.storage import documents_dir, path_of
from kb.errors import KbError

Progress = Callable[[int, int], None]
SUFFIXES = {"sqlite": ".sqlite3.tar", "postgresql": ".dump.tar"}
"""The ending of a backup's name: the archive, and the kind of database copy inside it."""


class BackupError(KbError):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup wrote."""

    path: Path
    kind: str
    facts: TableFacts
    size: int
    documents: int = 0

    def summary(self) -> str:
        """One line for the end of the command."""
        rows = f", {self.facts.total_rows:,} rows" if self.kind == "sqlite" else ""
        return (
            f"Backup finished: {self.facts.tables} tables{rows} at schema {self.facts.revision or 'none'}, "
            f"{_documents(self.documents)}, {_size(self.size)} written to {self.path}."
        )


@dataclass(frozen=True)
class RestoreReport:
    """What a restore put back."""

    path: Path
    restored_revision: str | None
    facts: TableFacts
    documents: int = 0

    def summary(self) -> str:
        """One line for the end of the command."""
        upgraded = f", upgraded to {self.facts.revision}" if self.facts.revision != self.restored_revision else ""
        return (
            f"Restore finished: {self.facts.tables} tables, {self.facts.total_rows:,} rows, "
            f"{_documents(self.documents)} from {self.path} (schema {self.restored_revision}{upgraded})."
        )


def _documents(count: int) -> str:
    return f"{count:,} document{'' if count == 1 else 's'}"


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size:.1f} GB"


def database_kind(url: URL) -> str:
    """The kind of database: "sqlite" or "postgresql"; raises `BackupError` for any other."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up or restored")
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"backups are made for SQLite and PostgreSQL only, not {backend}")


def default_backup_path(instance_dir: Path, url: URL, now: dt.datetime) -> Path:
    """`<instance>/backups/kb-<UTC time>.sqlite3.tar` (or `.dump.tar` for PostgreSQL)."""
    return instance_dir / "backups" / f"kb-{now.strftime('%Y%m%dT%H%M%SZ')}{SUFFIXES[database_kind(url)]}"


def database_facts(engine: Engine) -> TableFacts:
    """The schema revision of the database and the row count of each of its tables."""
    with engine.connect() as connection:
        names = sorted(inspect(connection).get_table_names())
        rows = {name: connection.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}
        revision = MigrationContext.configure(connection).get_current_revision()
    return TableFacts(revision=revision, rows=rows)


def _temporary_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")


def backup_database(
    engine: Engine, path: Path, *, force: bool = False, on_progress: Progress | None = None, bindir: str | None = None
) -> BackupReport:
    """Write a backup of the database behind `engine` to `path`; safe while the site serves.

    The archive holds the database copy and the bytes of every document it names. Raises
    `BackupError` when `path` exists and `force` is not given, when its folder cannot be
    made, when the copy fails or does not read back, or when a document's file is missing
    or no longer matches its checksum.
    """
    url = engine.url
    kind = database_kind(url)
    if kind == "sqlite" and path.resolve() == Path(str(url.database)).resolve():
        raise BackupError(f"{path} is the database itself: give another file name")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists: choose another name, or add --force to replace it")
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot make the folder {path.parent}: {error.strerror}") from error
    partial = _temporary_beside(path)
    database_copy = _temporary_beside(path.with_name(f"{path.name}.database"))
    try:
        # Readable by its owner alone from the start: it holds password hashes and private discussion.
        for private in (partial, database_copy):
            os.close(os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        facts = _write_backup(engine, url, kind, database_copy, on_progress, bindir)
        # Listed after the copy: a document row committed meanwhile only adds a file no row names.
        manifest = archive.Manifest(kind=kind, revision=facts.revision, documents=archive.document_files(engine))
        with partial.open("wb") as target:
            archive.write_archive(target, manifest, database_copy, path_of)
            target.flush()
            os.fsync(target.fileno())
        os.replace(partial, path)
    except (sqlite.SQLiteBackupError, postgres.PostgresBackupError, archive.ArchiveError, OSError) as error:
        raise BackupError(f"the backup failed and {path} was not written: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
        database_copy.unlink(missing_ok=True)
    return BackupReport(path=path, kind=kind, facts=facts, size=path.stat().st_size, documents=len(manifest.documents))


def _write_backup(
    engine: Engine, url: URL, kind: str, partial: Path, on_progress: Progress | None, bindir: str | None
) -> TableFacts:
    """Write the database copy to `partial` and read it back; returns what it holds."""
    if kind == "sqlite":
        source = Path(str(url.database))
        if not source.is_file():
            raise sqlite.SQLiteBackupError(f"there is no database file at {source}")
        sqlite.copy_database(source, partial, on_progress)
        return sqlite.file_facts(partial)
    live = database_facts(engine)
    postgres.dump(url, partial, tables=live.tables, bindir=bindir, on_progress=on_progress)
    revision, tables = postgres.archive_facts(partial, bindir)
    return TableFacts(revision=revision, rows=dict.fromkeys(tables, 0))


def _check_revision(revision: str | None, path: Path) -> None:
    """Refuse a file that is not a kb backup, or one made by a newer kb than this one."""
    if revision is None:
        raise BackupError(f"{path} holds no kb schema (no alembic_version): it is not a kb backup")
    try:
        known = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"{path} is at schema {revision}, which this version of kb does not know: "
            "it was made by a newer kb; upgrade kb before restoring it"
        )


def restore_database(
    engine: Engine, path: Path, *, force: bool = False, on_progress: Progress | None = None, bindir: str | None = None
) -> RestoreReport:
    """Replace the database behind `engine` with the backup at `path`, put back its documents, upgrade the schema.

    Needs an app context (for the upgrade and the documents folder). Stop the site first:
    connections open elsewhere would see the database change under them. Raises
    `BackupError` when the file is missing, of the other database's kind, made by a newer
    kb, damaged or not whole (a document it lists is missing or altered), or when the
    database holds data and `force` is not given; the database is then left as it was.
    """
    url = engine.url
    kind = database_kind(url)
    if not path.is_file():
        raise BackupError(f"there is no backup file at {path}")
    current = database_facts(engine)
    if current.holds_data() and not force:
        raise BackupError(
            f"the database already holds {current.total_rows:,} rows: add --force to replace all of them "
            "with the backup (make a backup of them first)"
        )
    if not archive.is_archive(path):  # A bare database file, as kb wrote before documents.
        restored_revision = _restore_database_file(engine, url, kind, path, path, current, on_progress, bindir)
        return RestoreReport(path=path, restored_revision=restored_revision, facts=database_facts(engine))
    try:
        manifest = archive.read_manifest(path)
    except archive.ArchiveError as error:
        raise BackupError(str(error)) from error
    if manifest.kind != kind:
        raise BackupError(_wrong_kind(path, "SQLite" if kind == "sqlite" else "PostgreSQL"))
    folder = documents_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / f".restore-{uuid.uuid4().hex[:8]}"
        staging.mkdir(mode=0o700)
    except OSError as error:
        raise BackupError(f"cannot write to the documents folder {folder}: {error.strerror}") from error
    try:
        try:
            database_copy = archive.unpack(path, manifest, staging)
        except (archive.ArchiveError, OSError) as error:
            raise BackupError(f"the restore failed and nothing was changed: {error}") from error
        restored_revision = _restore_database_file(engine, url, kind, database_copy, path, current, on_progress, bindir)
        try:
            archive.place_documents(staging, manifest, path_of)
        except OSError as error:
            raise BackupError(f"the database was restored but its documents could not be put back: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(
        path=path,
        restored_revision=restored_revision,
        facts=database_facts(engine),
        documents=len(manifest.documents),
    )


def _restore_database_file(
    engine: Engine,
    url: URL,
    kind: str,
    database_copy: Path,
    shown: Path,
    current: TableFacts,
    on_progress: Progress | None,
    bindir: str | None,
) -> str:
    """Put the database copy back and upgrade it; returns the schema revision it held.

    `shown` is the backup file as the person named it, for messages.
    """
    engine.dispose()
    try:
        restored_revision = _restore(engine, url, kind, database_copy, shown, current, on_progress, bindir)
    except (sqlite.SQLiteBackupError, postgres.PostgresBackupError, OSError) as error:
        raise BackupError(f"the restore failed: {error}") from error
    finally:
        engine.dispose()
    if schema_revision() != restored_revision:
        raise BackupError(f"the restore finished but the database is not at schema {restored_revision}")
    upgrade_database()
    return restored_revision


def _restore(
    engine: Engine,
    url: URL,
    kind: str,
    path: Path,
    shown: Path,
    current: TableFacts,
    on_progress: Progress | None,
    bindir: str | None,
) -> str:
    """Check the database copy at `path` against this database and put it back; returns its schema revision."""
    if kind == "sqlite":
        if not sqlite.is_sqlite_file(path):
            raise BackupError(_wrong_kind(shown, "SQLite"))
        revision = sqlite.file_facts(path).revision
        _check_revision(revision, shown)
        sqlite.copy_database(path, Path(str(url.database)), on_progress)
        return str(revision)
    if not postgres.is_archive(path):
        raise BackupError(_wrong_kind(shown, "PostgreSQL"))
    revision, tables = postgres.archive_facts(path, bindir)
    _check_revision(revision, shown)
    # Tables of a newer schema than the backup's would stand in the way of the upgrade afterwards.
    newer = sorted(set(current.rows) - set(tables))
    if newer:
        postgres.drop_tables(engine, newer)
    postgres.restore(url, path, tables=len(tables), bindir=bindir, on_progress=on_progress)
    return str(revision)


def _wrong_kind(path: Path, expected: str) -> str:
    return (
        f"{path} is not a {expected} backup made by `flask --app kb backup`; this site's database is {expected}. "
        "To move entries between databases use `flask --app kb content export` and `content import`."
    )
