"""Shared fixtures: a fresh app per test on its own SQLite file, empty or seeded.

Migrating and importing the seed content once per session and copying the resulting
database file keeps each test isolated without paying for set-up every time.
"""

from __future__ import annotations

import contextvars
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb import create_app
from kb.config import PROJECT_ROOT
from kb.content.service import import_directory
from kb.extensions import db
from kb.mail import Mail
from tests.accounts import Cast, make_cast

SEED_CONTENT = PROJECT_ROOT / "content"
# Settings read from the environment; tests set what they need explicitly.
ENVIRONMENT_SETTINGS = (
    "DATABASE_URL",
    "KB_ENV",
    "KB_DEMO",
    "SITE_URL",
    "MAIL_BACKEND",
    "SMTP_HOST",
    "SECRET_KEY",
    "RATELIMIT_STORAGE_URI",
)


@pytest.fixture(scope="session", autouse=True)
def _hermetic_environment() -> Iterator[None]:
    """Keep the developer's own settings (e.g. KB_DEMO=1) out of every test."""
    saved = {name: os.environ.pop(name) for name in ENVIRONMENT_SETTINGS if name in os.environ}
    yield
    os.environ.update(saved)


def _settings(folder: Path, database: Path, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": folder / "instance",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "SEARCH_INDEX_DIR": str(folder / "search_index"),
        "CONTENT_DIR": str(folder / "content"),
        "SECRET_KEY": "test-secret-key",
        "AUTO_MIGRATE": False,
        "SEARCH_REBUILD_AT_START": "inline",
        **extra,
    }


@pytest.fixture(scope="session")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated to the latest schema, with nothing in it."""
    folder = tmp_path_factory.mktemp("empty")
    database = folder / "kb.sqlite3"
    app = create_app(_settings(folder, database, AUTO_MIGRATE=True))
    with app.app_context():
        db.engine.dispose()
    return database


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory, empty_database: Path) -> Path:
    """A database file holding everything in `content/`."""
    folder = tmp_path_factory.mktemp("seeded")
    database = folder / "kb.sqlite3"
    shutil.copy(empty_database, database)
    app = create_app(_settings(folder, database))
    with app.app_context():
        report = import_directory(SEED_CONTENT)
        assert not report.problems, [str(problem) for problem in report.problems]
        db.session.commit()
        db.engine.dispose()
    return database


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Tests push an app context to use the database; without this, requests would share
    that context's `g` (and its cached CSRF token and per-request flags) and its
    database session, and pass where a real server would fail.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(folder: Path, template: Path, **extra: object) -> Flask:
    """A new app on a private copy of a template database."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "kb.sqlite3"
    shutil.copy(template, database)
    template_index = template.parent / "search_index"
    if template_index.is_dir() and not (folder / "search_index").exists():
        shutil.copytree(template_index, folder / "search_index", ignore=shutil.ignore_patterns("*.lock"))
    application = create_app(_settings(folder, database, **extra))
    application.test_client_class = IsolatedClient
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

    def keep(mail: Mail) -> bool:
        outbox.append(mail)
        return True

    monkeypatch.setattr("kb.mail.send_now", keep)
    return outbox
