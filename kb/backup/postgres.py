"""PostgreSQL databases: `pg_dump -Fc` archives written and read back with `pg_restore --clean`.

The tools are PostgreSQL's own client programs: found on PATH, in `pg_config --bindir`,
or in Debian's `/usr/lib/postgresql/<version>/bin` (the newest there), unless a folder is
given. The password goes to them in the environment, never on the command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from kb.errors import KbError

ARCHIVE_MAGIC = b"PGDMP"
DEBIAN_BIN_DIRS = "/usr/lib/postgresql/*/bin"
DUMPED_TABLE = re.compile(r'dumping contents of table "([^"]+)"')
RESTORED_TABLE = re.compile(r'processing data for table "([^"]+)"')
ERROR_LINES_KEPT = 8

Progress = Callable[[int, int], None]


class PostgresBackupError(KbError):
    """A PostgreSQL tool is missing, or it failed; the message carries what it said."""


def is_archive(path: Path) -> bool:
    """Whether `path` starts like a `pg_dump -Fc` archive."""
    with path.open("rb") as handle:
        return handle.read(len(ARCHIVE_MAGIC)) == ARCHIVE_MAGIC


def _version_key(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", folder.parent.name)) or (0,)


def find_tool(name: str, bindir: str | None = None) -> Path:
    """The path of PostgreSQL client program `name`; raises `PostgresBackupError` when none is installed."""
    if bindir:
        candidate = Path(bindir) / name
        if candidate.is_file():
            return candidate
        raise PostgresBackupError(f"{name} is not in {bindir}")
    found = shutil.which(name)
    if found:
        return Path(found)
    pg_config = shutil.which("pg_config")
    if pg_config:
        reported = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)  # noqa: S603
        candidate = Path(reported.stdout.strip()) / name
        if reported.returncode == 0 and candidate.is_file():
            return candidate
    for folder in sorted(Path("/").glob(DEBIAN_BIN_DIRS.lstrip("/")), key=_version_key, reverse=True):
        if (folder / name).is_file():
            return folder / name
    raise PostgresBackupError(
        f"{name} was not found: install PostgreSQL's client programs (Debian: apt-get install postgresql-client) "
        "or give their folder with --pg-bindir"
    )


def libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for `url` without its password, and the environment that carries the password."""
    # `URL.set` ignores None, so the password is taken out with the named tuple's own `_replace`.
    plain = url._replace(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    return plain, environment


def _run(command: Sequence[str], environment: dict[str, str], on_line: Callable[[str], None]) -> None:
    """Run a tool, passing each line it writes to stderr to `on_line`; raises with its errors when it fails."""
    complaints: list[str] = []
    with subprocess.Popen(  # noqa: S603
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            on_line(line)
            if "error" in line.lower() or "fatal" in line.lower() or "warning" in line.lower():
                complaints.append(line.strip())
    if process.returncode != 0:
        said = "; ".join(complaints[-ERROR_LINES_KEPT:]) or "no message"
        raise PostgresBackupError(f"{Path(command[0]).name} failed (exit {process.returncode}): {said}")


def _counter(pattern: re.Pattern[str], total: int, on_progress: Progress | None) -> Callable[[str], None]:
    done = 0

    def on_line(line: str) -> None:
        nonlocal done
        if on_progress is not None and pattern.search(line):
            done = min(done + 1, total)
            on_progress(done, total)

    return on_line


def dump(
    url: URL, target: Path, *, tables: int, bindir: str | None = None, on_progress: Progress | None = None
) -> None:
    """Write a `pg_dump -Fc` archive of the database at `url` to `target`.

    `on_progress(done, tables)` is called as each table's rows are written. Raises
    `PostgresBackupError` when pg_dump is missing or fails.
    """
    uri, environment = libpq_target(url)
    command = [str(find_tool("pg_dump", bindir)), "--format=custom", "--verbose", "--no-password"]
    _run([*command, f"--file={target}", f"--dbname={uri}"], environment, _counter(DUMPED_TABLE, tables, on_progress))


def _list_archive(source: Path, bindir: str | None, *arguments: str) -> str:
    command = [str(find_tool("pg_restore", bindir)), *arguments, str(source)]
    listed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if listed.returncode != 0:
        raise PostgresBackupError(f"{source} cannot be read as a pg_dump archive: {listed.stderr.strip()}")
    return listed.stdout


def archive_facts(source: Path, bindir: str | None = None) -> tuple[str | None, list[str]]:
    """The schema revision in a `pg_dump -Fc` archive and the tables whose rows it holds.

    Raises `PostgresBackupError` when the archive cannot be read.
    """
    tables = [
        line.split()[-2]
        for line in _list_archive(source, bindir, "--list").splitlines()
        if not line.startswith(";") and " TABLE DATA " in line
    ]
    script = _list_archive(source, bindir, "--data-only", "--table=alembic_version", "--file=-")
    revision = None
    lines = script.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and number + 1 < len(lines):
            value = lines[number + 1].strip()
            revision = None if value == "\\." else value
    return revision, tables


def drop_tables(engine: Engine, names: Sequence[str]) -> None:
    """Drop these tables (and what depends on them) in one transaction."""
    preparer = engine.dialect.identifier_preparer
    with engine.begin() as connection:
        for name in names:
            connection.execute(text(f"DROP TABLE IF EXISTS {preparer.quote(name)} CASCADE"))


def restore(
    url: URL, source: Path, *, tables: int, bindir: str | None = None, on_progress: Progress | None = None
) -> None:
    """Replace what the archive `source` holds in the database at `url`, in one transaction.

    `pg_restore --clean --if-exists` drops each object in the archive before creating it
    again; `--single-transaction` leaves the database as it was when anything fails.
    Raises `PostgresBackupError` when pg_restore is missing or fails.
    """
    uri, environment = libpq_target(url)
    command = [
        str(find_tool("pg_restore", bindir)),
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--verbose",
        "--no-password",
        f"--dbname={uri}",
        str(source),
    ]
    _run(command, environment, _counter(RESTORED_TABLE, tables, on_progress))
