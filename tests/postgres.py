"""A throwaway PostgreSQL server for tests: started from the installed binaries, on loopback.

`start_postgres(folder)` runs `initdb` (trust authentication, superuser `postgres`) and
starts the server on 127.0.0.1 and a free port, with its unix socket in the same private
folder and durability turned off (`fsync=off`): the data is thrown away afterwards.

PostgreSQL refuses to run as root; when the tests run as root (CI does), the server runs as
the `postgres` account (or `nobody`) in a folder of its own under the system temporary
folder, since pytest's folders are private to root.

    server = start_postgres(tmp_path)
    url = server.create_database("kb_test", template="kb_template")
    ...
    server.stop()

Where the binaries are missing, `PostgresUnavailableError` says so; `postgres_or_skip` turns that
into a skip, or into a failure when `CI` is set, since CI must run the PostgreSQL tests.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUPERUSER = "postgres"
DEFAULT_DATABASE = "kb"
# Settings for a server whose data does not need to survive a crash.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "timezone": "UTC",
}


# Run beside the tests: when the test process ends without stopping the server (killed,
# interrupted), stop it and remove its folder, so no server is left running.
WATCHDOG = """
import os, shutil, subprocess, sys, time
parent, folder, owns, uid, gid = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4], sys.argv[5]
command = sys.argv[6:]
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
extra = {"user": int(uid), "group": int(gid), "extra_groups": []} if uid else {}
subprocess.run(command, capture_output=True, check=False, **extra)
shutil.rmtree(folder if owns else os.path.join(folder, "data"), ignore_errors=True)
"""


class PostgresUnavailableError(RuntimeError):
    """The PostgreSQL server binaries (initdb, pg_ctl, postgres) cannot be found."""


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres; `PostgresUnavailableError` when there is none."""
    candidates: list[Path] = []
    if os.environ.get("KB_PG_BINDIR"):
        candidates.append(Path(os.environ["KB_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    candidates += sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")), reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailableError(
        "PostgreSQL server binaries not found (looked at KB_PG_BINDIR, `pg_config --bindir` and "
        "/usr/lib/postgresql/*/bin); install Debian's `postgresql` package"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root (PostgreSQL refuses root); else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailableError("running as root and no `postgres` or `nobody` account to run the server as")


@dataclass
class PostgresServer:
    """A running throwaway server; `url` is its database `kb`, `stop()` ends it."""

    bindir: Path
    folder: Path
    port: int
    account: pwd.struct_passwd | None
    owns_folder: bool
    running: bool = field(default=False)
    watchdog: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder."""
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder holding the server's unix socket."""
        return self.folder / "socket"

    @property
    def log_file(self) -> Path:
        """The server's log."""
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database `kb` (empty at start)."""
        return self.database_url(DEFAULT_DATABASE)

    def database_url(self, name: str, driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL of database `name` on this server (`driver="postgresql"` for a libpq URL)."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one of the server binaries as the server's account."""
        command = [str(self.bindir / args[0]), *args[1:]]
        extra = {}
        if self.account is not None:
            extra = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        result = subprocess.run(command, capture_output=True, text=True, check=False, **extra)
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-4000:] if self.log_file.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stdout}{result.stderr}\n{log}")
        return result

    def init(self) -> None:
        """Create the cluster (trust authentication, UTF-8) and its folders."""
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.account is not None:
            for path in (self.folder, self.socket_dir):
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def start(self) -> None:
        """Start (or start again) the server and wait until it takes connections."""
        options = [f"-p {self.port}", f"-k {self.socket_dir}"]
        options += [f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()]
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", " ".join(options), "-w", "start")
        self.running = True
        if self.watchdog is None:
            self.watchdog = self._start_watchdog()

    def _start_watchdog(self) -> subprocess.Popen[bytes]:
        """A process that stops the server if this one ends without doing so."""
        stop = [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"]
        uid, gid = (str(self.account.pw_uid), str(self.account.pw_gid)) if self.account else ("", "")
        owner = [str(os.getpid()), str(self.folder), "1" if self.owns_folder else "0", uid, gid]
        return subprocess.Popen([sys.executable, "-c", WATCHDOG, *owner, *stop], start_new_session=True)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`mode`: smart, fast or immediate); the data stays until `remove()`."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")
            self.running = False

    def restart(self) -> None:
        """Stop and start again on the same port, keeping the data."""
        self.stop()
        self.start()

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop(mode="immediate")
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
            self.watchdog = None
        if self.owns_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self.database_url(database, driver="postgresql"), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database `name` (a copy of `template` if given) and return its SQLAlchemy URL.

        A template must have no open connections while it is copied.
        """
        sql = f'CREATE DATABASE "{name}"'
        if template:
            sql += f' TEMPLATE "{template}" STRATEGY FILE_COPY'
        self.execute(sql)
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, closing any connections still open to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_postgres(folder: Path) -> PostgresServer:
    """Initialise and start a throwaway server; its files live in `folder` (or, as root, a folder of its own)."""
    bindir = find_bindir()
    account = _server_account()
    owns_folder = account is not None
    if owns_folder:
        folder = Path(tempfile.mkdtemp(prefix="kb-postgres-"))
    else:
        folder.mkdir(parents=True, exist_ok=True)
    server = PostgresServer(bindir=bindir, folder=folder, port=0, account=account, owns_folder=owns_folder)
    server.init()
    for attempt in range(5):
        server.port = _free_port()
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 4:
                raise
            time.sleep(0.2)
    server.create_database(DEFAULT_DATABASE)
    return server


@contextmanager
def running_postgres(folder: Path) -> Iterator[PostgresServer]:
    """`start_postgres` as a context manager: the server is stopped and removed on exit."""
    server = start_postgres(folder)
    try:
        yield server
    finally:
        server.remove()


def postgres_or_skip(folder: Path) -> PostgresServer:
    """`start_postgres`, skipping the test where PostgreSQL is not installed (failing in CI)."""
    try:
        return start_postgres(folder)
    except PostgresUnavailableError as missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {missing}")
        pytest.skip(str(missing))


class DatabaseCopies:
    """Copies of template databases for tests, made ahead and dropped behind in a background thread.

    Copying a database takes PostgreSQL a fifth of a second; a thread keeps a few copies of
    each template in use ready, so a test rarely waits, and drops the copies handed back.
    """

    def __init__(self, server: PostgresServer, ready: int = 3) -> None:
        self.server = server
        self.ready = ready
        self._counter = itertools.count(1)
        self._spare: dict[str, list[str]] = {}
        self._to_drop: list[str] = []
        self._wanted = threading.Condition()
        self._closing = False
        self.in_use = 0
        self._worker = threading.Thread(target=self._work, name="database-copies", daemon=True)
        self._worker.start()

    def _name(self, template: str) -> str:
        return f"{template}_copy{next(self._counter)}"

    def take(self, template: str) -> str:
        """The name of a fresh copy of `template`, now the caller's."""
        with self._wanted:
            spare = self._spare.setdefault(template, [])
            name = spare.pop(0) if spare else None
            self.in_use += 1
            self._wanted.notify()
        if name is None:
            name = self._name(template)
            self.server.create_database(name, template=template)
        return name

    def give_back(self, name: str) -> None:
        """Hand back a copy no longer used; it is dropped in the background."""
        with self._wanted:
            self._to_drop.append(name)
            self.in_use -= 1
            self._wanted.notify()

    def _next_job(self) -> tuple[str, str | None] | None:
        """What to do next, ("drop", name) or ("copy", template), waiting for work; None when closing."""
        with self._wanted:
            while not self._closing:
                if self._to_drop:
                    return "drop", self._to_drop.pop(0)
                for template, spare in self._spare.items():
                    if len(spare) < self.ready:
                        return "copy", template
                self._wanted.wait()
        return None

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            action, subject = job
            assert subject is not None
            try:
                if action == "drop":
                    self.server.drop_database(subject)
                    continue
                name = self._name(subject)
                self.server.create_database(name, template=subject)
            except Exception:  # A failed copy is made again on demand by take().
                time.sleep(0.1)
                continue
            with self._wanted:
                self._spare.setdefault(subject, []).append(name)

    def forget(self, template: str) -> None:
        """Stop making copies of `template` (e.g. before it is changed or dropped)."""
        with self._wanted:
            spare = self._spare.pop(template, [])
            self._to_drop.extend(spare)
            self._wanted.notify()

    def close(self) -> None:
        """Stop the background thread (the server's removal deletes what is left)."""
        with self._wanted:
            self._closing = True
            self._wanted.notify()
        self._worker.join(timeout=30)
