"""SQLite files: copied page by page with SQLite's online backup API, in either direction.

The backup API copies a consistent snapshot while other connections keep reading and
writing; when another connection writes during the copy, SQLite starts the copy again,
so the file written is always one committed state of the database.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from kb.backup.facts import TableFacts

SQLITE_MAGIC = b"SQLite format 3\x00"
PAGES_PER_STEP = 256
"""Pages copied per step (1 MB at the default page size): small enough to report progress often."""
BUSY_TIMEOUT_SECONDS = 30.0

Progress = Callable[[int, int], None]


class SQLiteBackupError(Exception):
    """The file is not a SQLite database, or it cannot be read or written."""


def is_sqlite_file(path: Path) -> bool:
    """Whether `path` starts like a SQLite database file."""
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    uri = f"{path.resolve().as_uri()}?mode={'ro' if read_only else 'rwc'}"
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        yield connection
    finally:
        connection.close()


def copy_database(source: Path, target: Path, on_progress: Progress | None = None) -> None:
    """Copy the database in `source` over `target` (created when missing) with the backup API.

    `on_progress(done, total)` is called with pages copied after every step. Raises
    `SQLiteBackupError` when either file cannot be opened or the copy fails.
    """

    def step(status: int, remaining: int, total: int) -> None:
        if on_progress is not None:
            on_progress(total - remaining, total)

    try:
        with _connect(source, read_only=True) as reader, _connect(target, read_only=False) as writer:
            reader.backup(writer, pages=PAGES_PER_STEP, progress=step)
    except sqlite3.Error as error:
        raise SQLiteBackupError(f"copying {source} to {target} failed: {error}") from error


def file_facts(path: Path) -> TableFacts:
    """The schema revision, tables and row counts of the SQLite file at `path`, after an integrity check.

    Raises `SQLiteBackupError` when it is not a readable, undamaged SQLite database.
    """
    try:
        with _connect(path, read_only=True) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise SQLiteBackupError(f"{path} is damaged: {'; '.join(problems[:5])}")
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            rows = {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608
            revision = None
            if "alembic_version" in rows:
                found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = found[0] if found else None
    except sqlite3.Error as error:
        raise SQLiteBackupError(f"{path} cannot be read as a SQLite database: {error}") from error
    return TableFacts(revision=revision, rows=rows)
