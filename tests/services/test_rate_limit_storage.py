"""Rate-limit counters in the database (kb.ratelimits): shared by every process, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from limits.storage import storage_from_string

from kb.extensions import db
from kb.ratelimits import DatabaseStorage, storage_uri
from tests.accounts import csrf_token, make_user, sign_in
from tests.conftest import make_app
from tests.postgres import PostgresServer, postgres_or_skip
from tests.web.test_health import database_unreachable

WRONG = "wrong password here"


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = postgres_or_skip(tmp_path_factory.mktemp("limits-postgres"))
    yield server
    server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A `kb+...` storage URI on an empty database of each kind."""
    if request.param == "sqlite":
        return f"kb+sqlite:///{tmp_path / 'limits.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"limits_{abs(hash(request.node.name))}"
    server.drop_database(name)
    return "kb+" + server.create_database(name)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    monkeypatch.setattr("kb.ratelimits.time.time", fixed)
    return fixed


def test_the_scheme_is_registered_with_flask_limiter(storage_url):
    assert isinstance(storage_from_string(storage_url), DatabaseStorage)


def test_a_counter_counts_within_its_window_and_starts_again_after_it(storage_url, clock):
    storage = DatabaseStorage(storage_url)
    assert storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=2) == 5
    assert storage.get("k") == 5
    assert storage.get_expiry("k") == clock.now + 60
    assert storage.get("other") == 0
    clock.now += 59
    assert storage.incr("k", 60) == 6, "the window runs from the first hit"
    clock.now += 1
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == clock.now + 60


def test_clear_and_reset_forget_counters(storage_url, clock):
    storage = DatabaseStorage(storage_url)
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 1)
    assert storage.reset() == 1
    assert storage.get("b") == 0


def _count(url: str, times: int) -> int:
    storage = DatabaseStorage(url)
    return max(storage.incr("shared", 600) for _ in range(times))


def test_processes_counting_at_once_lose_no_hit(storage_url):
    DatabaseStorage(storage_url).check()  # the table exists before the race
    with multiprocessing.get_context("fork").Pool(4) as pool:
        highest = pool.starmap(_count, [(storage_url, 25)] * 4)
    assert DatabaseStorage(storage_url).get("shared") == 100
    assert max(highest) == 100


def test_a_database_that_is_gone_fails_the_check():
    assert DatabaseStorage("kb+postgresql://nobody@127.0.0.1:1/none").check() is False


def test_database_means_kbs_own_database():
    assert storage_uri("database", "sqlite:////srv/kb.sqlite3") == "kb+sqlite:////srv/kb.sqlite3"
    assert storage_uri("memory://", "sqlite:////srv/kb.sqlite3") == "memory://"
    assert storage_uri("redis://cache:6379", "sqlite:///x") == "redis://cache:6379"


_worker_app: Flask | None = None


def _fail_to_sign_in(_attempt: int) -> int:
    """In a forked process, as a gunicorn worker would be: one failed sign-in."""
    assert _worker_app is not None
    with _worker_app.app_context():
        db.engine.dispose(close=False)
        status = sign_in(_worker_app.test_client(), "member@example.org", WRONG).status_code
        db.session.remove()
    return status


@pytest.mark.parametrize("storage", ["database", "memory://"])
def test_worker_processes_share_the_sign_in_limit_only_through_the_database(tmp_path, seeded_database, storage):
    global _worker_app
    application = make_app(tmp_path, seeded_database, RATELIMIT_STORAGE_URI=storage, LOGIN_FREE_FAILURES=3)
    with application.app_context():
        make_user("member@example.org")
        db.session.remove()
        db.engine.dispose()
        _worker_app = application
        try:
            with multiprocessing.get_context("fork").Pool(3) as workers:
                assert workers.map(_fail_to_sign_in, range(3)) == [401, 401, 401]
        finally:
            _worker_app = None
        attempt = sign_in(application.test_client(), "member@example.org")
        db.session.remove()
    if storage == "database":
        assert attempt.status_code == 429, "three failures in other workers use up the allowance of three"
    else:
        assert attempt.status_code == 302, (
            "memory:// counts in each process alone, which is why it is not for several workers"
        )


def test_counting_in_an_unreachable_database_answers_503_not_500(tmp_path, seeded_database):
    application = make_app(tmp_path, seeded_database, RATELIMIT_STORAGE_URI="database")
    with application.app_context():
        client = application.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        with database_unreachable(application):
            form = {"csrf_token": token, "email": "member@example.org", "password": WRONG}
            refused = client.post("/login", data=form)
        assert refused.status_code == 503
        assert "Sorry, the service is unavailable" in refused.get_data(as_text=True)
        assert sign_in(client, "member@example.org", WRONG).status_code == 401
        db.session.remove()
