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
from kb.errors import KbError

SQLITE_MAGIC = b"SQLite format 3\x00"
PAGES_PER_STEP = 256
"""Pages copied per step (1 MB at the default page size): small enough to report progress often."""
RESTARTS_ALLOWED = 3
"""Times a copy in steps may start again because the site wrote, before it is done in one step."""
BUSY_TIMEOUT_SECONDS = 30.0

Progress = Callable[[int, int], None]


class SQLiteBackupError(KbError):
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


class _CopyRestartedError(Exception):
    """Another connection wrote during the copy often enough that copying in steps may never finish."""


def _stepper(on_progress: Progress | None, restarts_allowed: int) -> Callable[[int, int, int], None]:
    """The backup API's progress callback: reports pages done, and gives up after too many restarts."""
    seen = {"done": 0, "restarts": 0}

    def step(status: int, remaining: int, total: int) -> None:
        done = total - remaining
        if seen["done"] and done <= seen["done"]:  # Each step copies pages: no progress means it began again.
            seen["restarts"] += 1
            if seen["restarts"] > restarts_allowed:
                raise _CopyRestartedError
        seen["done"] = done
        if on_progress is not None:
            on_progress(done, total)

    return step


def copy_database(source: Path, target: Path, on_progress: Progress | None = None) -> None:
    """Copy the database in `source` over `target` (created when missing) with the backup API.

    The copy goes in steps, so writers wait for no more than one step; when the site
    keeps writing and the copy has started again `RESTARTS_ALLOWED` times, it is done in
    one step instead, which holds writers back for the whole copy but always finishes.
    `on_progress(done, total)` is called with pages copied after every step. Raises
    `SQLiteBackupError` when either file cannot be opened or the copy fails.
    """
    try:
        with _connect(source, read_only=True) as reader, _connect(target, read_only=False) as writer:
            try:
                reader.backup(writer, pages=PAGES_PER_STEP, progress=_stepper(on_progress, RESTARTS_ALLOWED))
            except _CopyRestartedError:
                reader.backup(writer, pages=-1, progress=_stepper(on_progress, 0))
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
