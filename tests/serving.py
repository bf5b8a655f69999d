"""Run kb under gunicorn (`gunicorn.conf.py`) in a test: on a free loopback port, with its own log, stopped afterwards.

    with gunicorn(tmp_path, seeded_copy(tmp_path, seeded_database), workers=2) as server:
        assert server.get("/").status == 200
        server.workers()  # the worker processes' ids

Waits poll with a generous deadline and assert nothing about how long they took.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT
from tests.accounts import csrf_token
from tests.conftest import ENVIRONMENT_SETTINGS

START_DEADLINE = 90.0


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (lower-case names) and body text."""

    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> dict:
        return json.loads(self.body)


def fetch(url: str, headers: dict[str, str] | None = None) -> Answer:
    """GET `url`; an HTTP error status is an answer too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(
                response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
            )
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, deadline: float = START_DEADLINE) -> None:
    """Poll `condition` until it holds; fail naming `what` if it never does."""
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"gave up waiting: {what}")


@dataclass
class Gunicorn:
    """A gunicorn master started for a test, its address and its log."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return fetch(self.base + path, headers)

    def workers(self) -> list[int]:
        """The worker processes' ids, read from the master's children."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def answers(self, path: str) -> bool:
        try:
            return self.get(path).status == 200
        except OSError:
            return False


def _environment(**settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in ENVIRONMENT_SETTINGS}
    env.update(settings)
    return env


@contextmanager
def gunicorn(
    folder: Path, database_url: str, workers: int = 2, prefix: tuple[str, ...] = (), **settings: str
) -> Iterator[Gunicorn]:
    """Run `gunicorn --config gunicorn.conf.py` on a free loopback port until the block ends.

    `settings` are more environment variables for kb (e.g. `SEARCH_BACKEND="postgresql"`).
    `prefix` is a command that runs gunicorn in its place (it must exec it, keeping the
    process id), e.g. `setpriv` dropping privileges.
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    defaults = {
        "KB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "DATABASE_URL": database_url,
        "SEARCH_INDEX_DIR": str(folder / "search_index"),
        "SEARCH_REBUILD_AT_START": "inline",
        "SECRET_KEY": "serving-test-secret",
        "KB_FREEZE_STARTUP_OBJECTS": "1",
    }
    env = _environment(**{**defaults, **settings})
    log = folder / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "gunicorn", "--config", str(PROJECT_ROOT / "gunicorn.conf.py")],
            env=env,
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until(lambda: process.poll() is not None or server.answers("/healthz"), "gunicorn to answer /healthz")
        assert process.poll() is None, "gunicorn stopped:\n" + log.read_text(errors="replace")[-4000:]
        wait_until(lambda: len(server.workers()) == workers, f"{workers} workers to be running")
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def seeded_copy(folder: Path, seeded_database: Path) -> str:
    """The URL of a private copy of the seeded database the suite runs on."""
    folder.mkdir(parents=True, exist_ok=True)
    if seeded_database.suffix != ".sqlite3":  # A PostgreSQL template, when the suite runs on PostgreSQL.
        from tests.conftest import copy_database

        return copy_database(folder, seeded_database)[0]
    database = folder / "kb.sqlite3"
    shutil.copy(seeded_database, database)
    return f"sqlite:///{database}"


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    """Hand a redirect back as the answer, so a test sees a form's 303 and where it points."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class SiteSession:
    """One visitor of a served kb: their cookies, sign-in, pages, and forms posted with their CSRF token.

    Redirects are not followed: a posted form's answer is its own (303 and `location`).
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _KeepRedirects)

    def _open(self, request: urllib.request.Request) -> Answer:
        try:
            with self._opener.open(request, timeout=30) as response:
                return Answer(response.status, _lower(response.headers), response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, _lower(error.headers), error.read().decode())

    def get(self, path: str) -> Answer:
        """GET `path` with this visitor's cookies."""
        return self._open(urllib.request.Request(self.base + path))

    def form_token(self, page: str) -> str:
        """The CSRF token of the first form on `page`, to post with later."""
        return csrf_token(self.get(page).body)

    def post(self, path: str, fields: dict[str, str], form_page: str | None = None, token: str | None = None) -> Answer:
        """POST `fields` to `path`, with `token` or else the CSRF token read from `form_page` (default: `path`)."""
        token = token or self.form_token(form_page or path)
        data = urllib.parse.urlencode({"csrf_token": token, **fields}).encode()
        return self._open(urllib.request.Request(self.base + path, data=data, method="POST"))

    def sign_in(self, email: str, password: str) -> None:
        """Sign in with email and password (an account without a second factor); fails the test if refused."""
        answer = self.post("/login", {"email": email, "password": password})
        assert answer.status in (302, 303), f"sign-in as {email} refused: {answer.status}"


def _lower(headers: Message) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
