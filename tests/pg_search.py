"""Apps for the search tests on each search backend: Whoosh, and PostgreSQL full-text search.

The search tests take a `backend` parameter (`SEARCH_BACKENDS`) and build their app with
`search_app`. For Whoosh that is the suite's usual app (`tests.conftest.make_app`, on
whichever database the suite runs on). For PostgreSQL, one throwaway server is started
for the session (`tests/postgres.py`) with two template databases made once, migrated and,
for the seeded one, holding `content/` indexed into the search documents; each app gets a
copy of a template (`CREATE DATABASE ... TEMPLATE`). Without the PostgreSQL binaries the
PostgreSQL cases are skipped, except in CI (`CI` set), where they fail.

`KB_TEST_SEARCH_BACKENDS` (comma-separated: `whoosh`, `postgresql`) chooses the backends. By
default the suite's PostgreSQL pass (`KB_TEST_DATABASE=postgresql`) runs both and the SQLite
pass only Whoosh, so `make test` runs the PostgreSQL backend's cases once, not in both passes
(they add about five minutes a pass on the 2-core machine).
"""

from __future__ import annotations

import atexit
import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Flask

from kb import create_app
from kb.config import PROJECT_ROOT
from kb.content.service import import_directory
from kb.extensions import db
from kb.search.backend import backend
from kb.search.types import CheckReport
from tests.conftest import IsolatedClient, make_app
from tests.conftest import _settings as conftest_settings
from tests.postgres import PostgresServer, postgres_or_skip

_DEFAULT_BACKENDS = "whoosh,postgresql" if os.environ.get("KB_TEST_DATABASE", "").lower() == "postgresql" else "whoosh"
SEARCH_BACKENDS = [
    name.strip() for name in os.environ.get("KB_TEST_SEARCH_BACKENDS", _DEFAULT_BACKENDS).split(",") if name.strip()
]
EMPTY_TEMPLATE = "kb_search_empty"
SEEDED_TEMPLATE = "kb_search_seeded"

_server: PostgresServer | None = None
_templates: set[str] = set()
_copies = itertools.count(1)


def _settings(folder: Path, uri: str, **extra: object) -> dict[str, object]:
    return conftest_settings(folder, uri, **{"SEARCH_BACKEND": "postgresql", **extra})


def postgres_server() -> PostgresServer:
    """The session's server for the PostgreSQL search backend, started on first use and stopped at exit."""
    global _server
    if _server is None:
        _server = postgres_or_skip(Path(tempfile.mkdtemp(prefix="kb-search-pg-")))
        atexit.register(_server.remove)
    return _server


def _template(name: str) -> str:
    """The template database `name`, made on first use: migrated, and for the seeded one, `content/` imported."""
    server = postgres_server()
    if name not in _templates:
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        if name == EMPTY_TEMPLATE:
            app = create_app(_settings(folder, server.create_database(name), AUTO_MIGRATE=True))
        else:
            app = create_app(_settings(folder, server.create_database(name, template=_template(EMPTY_TEMPLATE))))
            with app.app_context():
                report = import_directory(PROJECT_ROOT / "content")
                assert not report.problems, [str(problem) for problem in report.problems]
                db.session.commit()  # The drain after the commit writes the search documents.
        with app.app_context():
            db.engine.dispose()
        _templates.add(name)
    return name


def postgres_search_app(folder: Path, *, seeded: bool, **extra: object) -> Flask:
    """An app searching with PostgreSQL, on a fresh copy of the empty or seeded template."""
    template = _template(SEEDED_TEMPLATE if seeded else EMPTY_TEMPLATE)
    uri = postgres_server().create_database(f"{template}_{next(_copies)}", template=template)
    folder.mkdir(parents=True, exist_ok=True)
    application = create_app(_settings(folder, uri, **extra))
    application.test_client_class = IsolatedClient
    return application


def search_app(backend: str, folder: Path, template: Path, *, seeded: bool, **extra: object) -> Flask:
    """An app searching with `backend`: the suite's app on `template` for Whoosh, a PostgreSQL copy otherwise."""
    if backend == "postgresql":
        return postgres_search_app(folder, seeded=seeded, **extra)
    return make_app(folder, template, **extra)


def in_context(application: Flask) -> Iterator[Flask]:
    """Push an app context for a test, and close the app's connections after it."""
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def check_search() -> CheckReport:
    """`search check` on the app's backend: how its documents differ from the database."""
    return backend().check()


def rebuild_search() -> int:
    """`search rebuild` on the app's backend; how many entries it holds."""
    return backend().rebuild()
