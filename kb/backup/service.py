"""Backup and restore of the app's database, on SQLite or PostgreSQL, with the checks around them.

A backup is written beside its destination under a temporary name and renamed into place
only when it is complete and reads back, so a failed backup never leaves a partial file
where a good one is expected, and an existing file is replaced only when asked to.
A restore first checks that the file is a backup of the same kind of database, made by
this or an older version of kb, and that the database it replaces holds nothing (unless
asked to replace it); afterwards the schema is upgraded to the current migration.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, func, inspect, select, table
from sqlalchemy.engine import URL

from kb.backup import postgres, sqlite
from kb.backup.facts import TableFacts
from kb.database import MIGRATIONS_DIR, schema_revision, upgrade_database
from kb.errors import KbError

Progress = Callable[[int, int], None]
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".dump"}


class BackupError(KbError):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup wrote."""

    path: Path
    kind: str
    facts: TableFacts
    size: int

    def summary(self) -> str:
        """One line for the end of the command."""
        rows = f", {self.facts.total_rows:,} rows" if self.kind == "sqlite" else ""
        return (
            f"Backup finished: {self.facts.tables} tables{rows} at schema {self.facts.revision or 'none'}, "
            f"{_size(self.size)} written to {self.path}."
        )


@dataclass(frozen=True)
class RestoreReport:
    """What a restore put back."""

    path: Path
    restored_revision: str | None
    facts: TableFacts

    def summary(self) -> str:
        """One line for the end of the command."""
        upgraded = f", upgraded to {self.facts.revision}" if self.facts.revision != self.restored_revision else ""
        return (
            f"Restore finished: {self.facts.tables} tables, {self.facts.total_rows:,} rows from {self.path} "
            f"(schema {self.restored_revision}{upgraded})."
        )


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
    """`<instance>/backups/kb-<UTC time>.sqlite3` (or `.dump` for PostgreSQL)."""
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

    Raises `BackupError` when `path` exists and `force` is not given, when its folder
    cannot be made, or when the copy fails or does not read back.
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
    try:
        # Readable by its owner alone from the start: it holds password hashes and private discussion.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        facts = _write_backup(engine, url, kind, partial, on_progress, bindir)
        os.replace(partial, path)
    except (sqlite.SQLiteBackupError, postgres.PostgresBackupError, OSError) as error:
        raise BackupError(f"the backup failed and {path} was not written: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path=path, kind=kind, facts=facts, size=path.stat().st_size)


def _write_backup(
    engine: Engine, url: URL, kind: str, partial: Path, on_progress: Progress | None, bindir: str | None
) -> TableFacts:
    """Write the backup to `partial` and read it back; returns what it holds."""
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
    """Replace the database behind `engine` with the backup at `path`, then upgrade its schema.

    Needs an app context (for the upgrade). Stop the site first: connections open
    elsewhere would see the database change under them. Raises `BackupError` when the
    file is missing, of the other database's kind, made by a newer kb, damaged, or when
    the database holds data and `force` is not given; the database is then left as it was.
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
    engine.dispose()
    try:
        restored_revision = _restore(engine, url, kind, path, current, on_progress, bindir)
    except (sqlite.SQLiteBackupError, postgres.PostgresBackupError, OSError) as error:
        raise BackupError(f"the restore failed: {error}") from error
    finally:
        engine.dispose()
    if schema_revision() != restored_revision:
        raise BackupError(f"the restore finished but the database is not at schema {restored_revision}")
    upgrade_database()
    return RestoreReport(path=path, restored_revision=restored_revision, facts=database_facts(engine))


def _restore(
    engine: Engine,
    url: URL,
    kind: str,
    path: Path,
    current: TableFacts,
    on_progress: Progress | None,
    bindir: str | None,
) -> str:
    """Check the file against this database and put it back; returns the schema revision it held."""
    if kind == "sqlite":
        if not sqlite.is_sqlite_file(path):
            raise BackupError(_wrong_kind(path, "SQLite"))
        revision = sqlite.file_facts(path).revision
        _check_revision(revision, path)
        sqlite.copy_database(path, Path(str(url.database)), on_progress)
        return str(revision)
    if not postgres.is_archive(path):
        raise BackupError(_wrong_kind(path, "PostgreSQL"))
    revision, tables = postgres.archive_facts(path, bindir)
    _check_revision(revision, path)
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
