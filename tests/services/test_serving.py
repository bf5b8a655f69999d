"""kb under gunicorn with `gunicorn.conf.py`: two workers, JSON logs, a worker replaced, the database lost and back.

Each test starts its own gunicorn (and, for PostgreSQL, its own throwaway server) and
stops it. Waits poll with a generous deadline and assert nothing about how long they took.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT
from tests.conftest import ENVIRONMENT_SETTINGS
from tests.postgres import postgres_or_skip
from tests.web import seed

LESSON_PATH = seed.path_of(seed.of_kind("lesson")[0])
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
def gunicorn(folder: Path, database_url: str, workers: int = 2) -> Iterator[Gunicorn]:
    """Run `gunicorn --config gunicorn.conf.py` on a free loopback port until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = _environment(
        KB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        DATABASE_URL=database_url,
        SEARCH_INDEX_DIR=str(folder / "search_index"),
        SEARCH_REBUILD_AT_START="inline",
        SECRET_KEY="serving-test-secret",
        KB_FREEZE_STARTUP_OBJECTS="1",
    )
    log = folder / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(PROJECT_ROOT / "gunicorn.conf.py")],
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


def test_gunicorn_serves_kb_with_two_workers_and_logs_json_lines(tmp_path, seeded_database):
    with gunicorn(tmp_path, seeded_copy(tmp_path, seeded_database)) as server:
        assert len(server.workers()) == 2
        home = server.get("/")
        assert home.status == 200
        assert "kb" in home.body
        assert server.get(LESSON_PATH).status == 200
        health = server.get("/healthz", headers={"X-Request-ID": "serving-test-1"})
        assert health.status == 200
        assert health.json()["status"] == "ok"
        assert health.headers["x-request-id"] == "serving-test-1"
        assert server.get("/readyz").status == 200
        assert server.get("/no-such-page").status == 404
    assert server.process.returncode == 0, "a TERM signal stops gunicorn cleanly"
    lines = [line for line in server.log_lines() if line.strip()]
    assert [line for line in lines if not line.startswith("{")] == [], "every line is JSON, start-up included"
    records = [json.loads(line) for line in lines]
    requests = [record for record in records if record.get("event") == "request"]
    probe = [record for record in requests if record["request_id"] == "serving-test-1"]
    assert len(probe) == 1
    assert (probe[0]["method"], probe[0]["path"], probe[0]["status"]) == ("GET", "/healthz", 200)
    assert {record["status"] for record in requests} >= {200, 404}
    assert any(record["logger"] == "gunicorn.error" and "Booting worker" in record["message"] for record in records)


def test_a_worker_killed_outright_is_replaced_and_the_site_keeps_answering(tmp_path, seeded_database):
    with gunicorn(tmp_path, seeded_copy(tmp_path, seeded_database)) as server:
        first, second = server.workers()
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: first not in server.workers() and len(server.workers()) == 2, "a new worker")
        assert second in server.workers()
        for _ in range(6):
            assert server.get(LESSON_PATH).status == 200


def test_with_postgresql_stopped_pages_answer_503_then_recover_without_a_restart(tmp_path):
    postgres = postgres_or_skip(tmp_path / "postgres")
    try:
        with gunicorn(tmp_path / "site", postgres.url) as server:
            assert server.get("/").status == 200
            workers = server.workers()
            postgres.stop()
            for path in ("/", "/lessons", "/search?q=handover", "/healthz", "/readyz"):
                answer = server.get(path)
                assert answer.status == 503, path
                assert "psycopg" not in answer.body
                assert "Traceback" not in answer.body
            page = server.get("/", headers={"X-Request-ID": "outage-1"})
            assert "Sorry, the service is unavailable" in page.body
            assert page.headers["retry-after"] == "30"
            assert page.headers["x-request-id"] == "outage-1"
            postgres.start()
            wait_until(lambda: server.answers("/"), "the site to answer again")
            for path in ("/", "/lessons", "/healthz", "/readyz"):
                assert server.get(path).status == 200, path
            assert server.workers() == workers, "the same workers recovered; none had to be replaced"
        records = [json.loads(line) for line in server.log_lines() if line.startswith("{")]
        outage = [record for record in records if record.get("request_id") == "outage-1"]
        assert [record["logger"] for record in outage] == ["kb.unavailable", "gunicorn.access"]
        assert outage[0]["level"] == "error"
        assert outage[0]["message"].startswith("Database unavailable, answered 503: OperationalError")
        assert outage[1]["status"] == 503
    finally:
        postgres.remove()
