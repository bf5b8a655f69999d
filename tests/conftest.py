"""Shared fixtures: a fresh app per test on its own database, empty or seeded.

Migrating and importing the seed content once per session and copying the resulting
database keeps each test isolated without paying for set-up every time.

The suite runs on SQLite (a database file copied per app) or, with
`KB_TEST_DATABASE=postgresql`, on a throwaway PostgreSQL server started for the session
(`tests/postgres.py`), where each app gets a copy of a template database made by
`CREATE DATABASE ... TEMPLATE`. A template is then named by a small file `kb.postgres`
holding the template database's name, beside the template's search index, so fixtures and
tests pass templates around as paths on both databases.
"""

from __future__ import annotations

import contextvars
import gc
import os
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from kb import create_app
from kb.config import PROJECT_ROOT
from kb.content.service import import_directory
from kb.extensions import db
from kb.mail import Mail
from kb.search.backend import backend
from tests.accounts import Cast, make_cast
from tests.postgres import DatabaseCopies, PostgresServer, postgres_or_skip

SEED_CONTENT = PROJECT_ROOT / "content"
# The database the suite runs on: "sqlite" (default) or "postgresql".
TEST_DATABASE = os.environ.get("KB_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
POSTGRES_TEMPLATE = "kb.postgres"
# Copies of PostgreSQL templates, set once the session's server is up.
_copies: DatabaseCopies | None = None
# Settings read from the environment; tests set what they need explicitly.
ENVIRONMENT_SETTINGS = (
    "DATABASE_URL",
    "KB_ENV",
    "KB_DEMO",
    "SITE_URL",
    "FLASK_RUN_HOST",
    "FLASK_RUN_PORT",
    "MAIL_BACKEND",
    "SMTP_HOST",
    "SECRET_KEY",
    "RATELIMIT_STORAGE_URI",
    "DOCUMENTS_DIR",
    "DOCUMENT_MAX_MB",
    "DOCUMENT_EXTRACT_SECONDS",
    "DOCUMENT_EXTRACT_MEMORY_MB",
    "OIDC_DISCOVERY_URL",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_DOMAINS",
    "OIDC_ROLES_CLAIM",
    "OIDC_ROLE_VALUES",
    "LOCAL_PASSWORDS",
)


@pytest.fixture(scope="session", autouse=True)
def _hermetic_environment() -> Iterator[None]:
    """Keep the developer's own settings (e.g. KB_DEMO=1) out of every test."""
    saved = {name: os.environ.pop(name) for name in ENVIRONMENT_SETTINGS if name in os.environ}
    yield
    os.environ.update(saved)


def _settings(folder: Path, database_uri: str, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": folder / "instance",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "SEARCH_INDEX_DIR": str(folder / "search_index"),
        "CONTENT_DIR": str(folder / "content"),
        "SECRET_KEY": "test-secret-key",
        "AUTO_MIGRATE": False,
        "SEARCH_REBUILD_AT_START": "inline",
        **extra,
    }


def _import_seed(application: Flask) -> None:
    with application.app_context():
        report = import_directory(SEED_CONTENT)
        assert not report.problems, [str(problem) for problem in report.problems]
        db.session.commit()
        # The seed content's vectors and token weights go into the template, so an app made on a
        # copy starts with them instead of embedding the whole seed content again.
        backend().ensure_ready("inline")
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session; skipped where not installed (failing in CI)."""
    global _copies  # make_app is a plain function many tests call: it finds the copies here.
    server = postgres_or_skip(tmp_path_factory.mktemp("postgres"))
    _copies = DatabaseCopies(server)
    yield server
    _copies.close()
    _copies = None
    server.remove()


@pytest.fixture(scope="session")
def sqlite_empty_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated to the latest schema, with nothing in it."""
    folder = tmp_path_factory.mktemp("empty")
    database = folder / "kb.sqlite3"
    app = create_app(_settings(folder, f"sqlite:///{database}", AUTO_MIGRATE=True))
    with app.app_context():
        db.engine.dispose()
    return database


@pytest.fixture(scope="session")
def sqlite_seeded_database(tmp_path_factory: pytest.TempPathFactory, sqlite_empty_database: Path) -> Path:
    """A SQLite database file holding everything in `content/`."""
    folder = tmp_path_factory.mktemp("seeded")
    database = folder / "kb.sqlite3"
    shutil.copy(sqlite_empty_database, database)
    _import_seed(create_app(_settings(folder, f"sqlite:///{database}")))
    return database


def _postgres_template(folder: Path, name: str) -> Path:
    marker = folder / POSTGRES_TEMPLATE
    marker.write_text(name, encoding="utf-8")
    return marker


@pytest.fixture(scope="session")
def postgres_empty_database(tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer) -> Path:
    """A PostgreSQL template database migrated to the latest schema, with nothing in it."""
    folder = tmp_path_factory.mktemp("pg-empty")
    app = create_app(_settings(folder, postgres_server.create_database("kb_empty"), AUTO_MIGRATE=True))
    with app.app_context():
        db.engine.dispose()
    return _postgres_template(folder, "kb_empty")


@pytest.fixture(scope="session")
def postgres_seeded_database(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer, postgres_empty_database: Path
) -> Path:
    """A PostgreSQL template database holding everything in `content/`."""
    folder = tmp_path_factory.mktemp("pg-seeded")
    uri = postgres_server.create_database("kb_seeded", template=postgres_empty_database.read_text(encoding="utf-8"))
    _import_seed(create_app(_settings(folder, uri)))
    return _postgres_template(folder, "kb_seeded")


@pytest.fixture(scope="session")
def empty_database(request: pytest.FixtureRequest) -> Path:
    """The empty template of the database the suite runs on (see `make_app`)."""
    return request.getfixturevalue(f"{_database_kind()}_empty_database")


@pytest.fixture(scope="session")
def seeded_database(request: pytest.FixtureRequest) -> Path:
    """The seeded template of the database the suite runs on (see `make_app`)."""
    return request.getfixturevalue(f"{_database_kind()}_seeded_database")


def _database_kind() -> str:
    if TEST_DATABASE not in {"sqlite", "postgresql"}:
        raise pytest.UsageError(f"KB_TEST_DATABASE must be 'sqlite' or 'postgresql', not {TEST_DATABASE!r}")
    return "postgres" if TEST_DATABASE == "postgresql" else "sqlite"


def is_postgres(template: Path) -> bool:
    """Whether a template (from `empty_database`, `seeded_database`...) is a PostgreSQL one."""
    return template.name == POSTGRES_TEMPLATE


def copy_database(folder: Path, template: Path) -> tuple[str, str | None]:
    """A private copy of a template database: its URL, and the PostgreSQL database's name (else None).

    A PostgreSQL copy is dropped after `release_database(name)`; `make_app` does that when its app is gone.
    """
    if is_postgres(template):
        assert _copies is not None, "the postgres_server fixture has not started"
        name = _copies.take(template.read_text(encoding="utf-8"))
        return _copies.server.database_url(name), name
    database = folder / "kb.sqlite3"
    shutil.copy(template, database)
    return f"sqlite:///{database}", None


def release_database(name: str) -> None:
    """Hand back a PostgreSQL copy made by `copy_database`; it is dropped in the background."""
    if _copies is not None:
        _copies.give_back(name)


@pytest.fixture(autouse=True)
def _collect_finished_apps() -> Iterator[None]:
    """Now and then collect apps no test holds, so their PostgreSQL copies are dropped."""
    yield
    if _copies is not None and _copies.in_use > 40:
        gc.collect()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Tests push an app context to use the database; without this, requests would share
    that context's `g` (and its cached CSRF token and per-request flags) and its
    database session, and pass where a real server would fail. The response is read
    and closed at once, as a server does after sending it, so work a view leaves for
    after the response (`response.call_on_close`) is done before the test goes on.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept in memory for every app the tests build.

    Each app has its own Jinja environment, which would parse and compile every template it
    renders again; sharing the compiled code (checked against each template's source) saves
    most of that time.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill `bucket` with the code compiled before, if any."""
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled."""
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()


def make_app(folder: Path, template: Path, **extra: object) -> Flask:
    """A new app on a private copy of a template database (and of its search index)."""
    folder.mkdir(parents=True, exist_ok=True)
    uri, postgres_name = copy_database(folder, template)
    template_index = template.parent / "search_index"
    if template_index.is_dir() and not (folder / "search_index").exists():
        shutil.copytree(template_index, folder / "search_index", ignore=shutil.ignore_patterns("*.lock"))
    application = create_app(_settings(folder, uri, **extra))
    application.test_client_class = IsolatedClient
    application.jinja_env.bytecode_cache = TEMPLATE_CODE
    if postgres_name is not None:
        weakref.finalize(application, release_database, postgres_name)
    return application


def import_files(folder: Path, files: dict[str, str]) -> None:
    """Write content files (relative path to text) below `folder`, import them and commit."""
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    report = import_directory(folder)
    assert not report.problems, [str(problem) for problem in report.problems]
    db.session.commit()


def _in_context(application: Flask) -> Iterator[Flask]:
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path, empty_database: Path) -> Iterator[Flask]:
    """An app with an empty, migrated database; an app context is pushed."""
    yield from _in_context(make_app(tmp_path, empty_database))


@pytest.fixture
def seeded_app(tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    """An app whose database holds the seed content; an app context is pushed."""
    yield from _in_context(make_app(tmp_path, seeded_database))


@pytest.fixture
def client(seeded_app: Flask) -> FlaskClient:
    """A test client on the seeded app."""
    return seeded_app.test_client()


@pytest.fixture
def empty_client(app: Flask) -> FlaskClient:
    """A test client on the empty app."""
    return app.test_client()


@pytest.fixture
def cast(seeded_app: Flask) -> Cast:
    """One account per role on the seeded app (see `tests.accounts.make_cast`)."""
    return make_cast()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Mail]:
    """Mail that left after a commit, kept here instead of being delivered."""
    outbox: list[Mail] = []

    def keep(mail: Mail, **message: object) -> None:
        outbox.append(mail)

    # The one place mail leaves kb: every outbox row is sent through it.
    monkeypatch.setattr("kb.mail.delivery.transmit", keep)
    return outbox
