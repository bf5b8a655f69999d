"""Health probes, request ids, the 503 page while the database cannot be reached, and Whoosh on PostgreSQL warned of."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import make_url, text

from kb.extensions import db
from kb.search.backend import index_store
from kb.wsgi import production_app
from tests.accounts import client_for, csrf_token, page_text
from tests.conftest import make_app
from tests.web import seed
from tests.web.dom import parse

LESSON_PATH = seed.path_of(seed.of_kind("lesson")[0])
TYPED = "Weekend cover was planned\nfrom last year's figures."


@contextmanager
def database_unreachable(app: Flask) -> Iterator[None]:
    """Make the app's database refuse every connection, then let it take them again.

    SQLite: the file is taken away and a folder stands in its place. PostgreSQL: the
    database stops accepting connections and those open are ended, as in a restart. The
    app's pool is emptied first, as a restart would; nothing is done to the app afterwards.
    """
    db.session.remove()
    db.engine.dispose()
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        with _postgres_refusing(url.set(drivername="postgresql", database="postgres"), url.database or ""):
            yield
        return
    path = Path(url.database or "")
    aside = path.with_name(path.name + ".away")
    path.rename(aside)
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        aside.rename(path)


@contextmanager
def _postgres_refusing(admin_url, name: str) -> Iterator[None]:
    def run(sql: str) -> None:
        with psycopg.connect(admin_url.render_as_string(hide_password=False), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    run(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    run(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    try:
        yield
    finally:
        run(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def whoosh_only(app: Flask) -> None:
    if app.config.get("SEARCH_BACKEND", "whoosh") != "whoosh":
        pytest.skip("the search index checked here is the Whoosh one")


def test_healthz_reports_database_and_search(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["checks"]["database"]["ok"] is True
    assert response.json["checks"]["search"]["ok"] is True
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_at_the_latest_migration_with_the_index_open(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["database"]["detail"] == "at the latest migration"
    assert response.json["checks"]["search"]["detail"] == "index open"


def test_readyz_refuses_a_database_behind_the_code(seeded_app, client):
    db.session.execute(text("UPDATE alembic_version SET version_num = 'e71b826cb46c'"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert "db upgrade" in response.json["checks"]["database"]["detail"]
    assert client.get("/healthz").status_code == 200, "the old schema still answers queries"


def test_a_missing_index_fails_both_probes(seeded_app, client):
    whoosh_only(seeded_app)
    shutil.rmtree(seeded_app.config["SEARCH_INDEX_DIR"])
    for probe in ("/healthz", "/readyz"):
        response = client.get(probe)
        assert response.status_code == 503
        assert response.json["checks"]["search"]["ok"] is False
        assert response.json["checks"]["search"]["detail"] == "index missing or damaged"
        assert response.json["checks"]["database"]["ok"] is True


def test_an_index_being_rebuilt_is_healthy_but_not_ready(seeded_app, client, monkeypatch):
    whoosh_only(seeded_app)
    shutil.rmtree(seeded_app.config["SEARCH_INDEX_DIR"])
    monkeypatch.setattr(type(index_store(seeded_app)), "rebuild_running", lambda self: True)
    healthy = client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json["checks"]["search"]["detail"] == "index is being rebuilt"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["search"]["detail"] == "index is being rebuilt"


def test_probes_answer_503_without_details_when_the_database_is_unreachable(seeded_app, client):
    with database_unreachable(seeded_app):
        for probe in ("/healthz", "/readyz"):
            response = client.get(probe)
            assert response.status_code == 503
            assert response.json["checks"]["database"]["ok"] is False
            assert response.json["checks"]["database"]["detail"] == "database unreachable"
            assert "sqlite" not in response.get_data(as_text=True).lower()


def test_the_request_id_is_returned_kept_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"}).headers["X-Request-ID"] == "lb-7f3a.42"
    made = client.get("/", headers={"X-Request-ID": 'two words"'}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    first, second = client.get("/").headers["X-Request-ID"], client.get("/").headers["X-Request-ID"]
    assert first != second


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "30"
    assert response.headers["X-Request-ID"]
    page = parse(response.data)
    assert page.one("main").one("h1").text() == "Sorry, the service is unavailable"
    body = response.get_data(as_text=True)
    for leak in ("Traceback", "OperationalError", "sqlite", "unable to open", "psycopg", "accepting connections"):
        assert leak not in body


@pytest.mark.parametrize("path", ["/", LESSON_PATH, "/search?q=weekend", "/lessons", "/consultations", "/dashboard"])
def test_every_page_answers_503_while_the_database_is_away_and_recovers(seeded_app, client, path):
    with database_unreachable(seeded_app):
        assert_unavailable_page(client.get(path))
    assert client.get(path).status_code == 200


def test_the_api_answers_a_503_problem_while_the_database_is_away(seeded_app, client):
    with database_unreachable(seeded_app):
        response = client.get("/api/v1/entries")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["status"] == 503
    assert "sqlite" not in response.get_data(as_text=True).lower()
    assert client.get("/api/v1/entries").status_code == 200


def test_a_signed_in_member_gets_the_503_page_and_keeps_what_they_typed(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    token = csrf_token(member.get(LESSON_PATH).get_data(as_text=True))
    with database_unreachable(seeded_app):
        assert_unavailable_page(member.get(LESSON_PATH))
        response = member.post(f"{LESSON_PATH}/comments", data={"csrf_token": token, "body": TYPED})
        assert_unavailable_page(response)
        typed = parse(response.data).one("main").find("textarea")
        assert typed is not None
        assert page_text(response).count(TYPED) == 1
        assert token not in response.get_data(as_text=True)
    back = member.get(LESSON_PATH)
    assert back.status_code == 200
    assert "Sign out" in page_text(back), "still signed in once the database is back"


# --- Whoosh serving a PostgreSQL database ------------------------------------------------------


def served(tmp_path: Path, template: Path, caplog: pytest.LogCaptureFixture, **settings: object) -> tuple[Flask, list]:
    """An app as gunicorn starts it (`kb.wsgi`), and the warnings it logged at start."""
    base = make_app(tmp_path, template, **settings)
    with caplog.at_level(logging.WARNING, logger="kb.wsgi"):
        application = production_app(dict(base.config, INSTANCE_PATH=base.instance_path))
    return application, [record.getMessage() for record in caplog.records if record.name == "kb.wsgi"]


def test_whoosh_on_a_postgresql_database_is_warned_of_at_start_and_in_readyz(tmp_path, postgres_empty_database, caplog):
    application, warned = served(tmp_path, postgres_empty_database, caplog, SEARCH_BACKEND="whoosh")
    assert len(warned) == 1
    assert "SEARCH_BACKEND=postgresql" in warned[0], "it says what to set"
    assert "SEARCH_ONE_HOST=1" in warned[0]
    ready = application.test_client().get("/readyz")
    assert ready.status_code == 200, "a warning does not take the host out of rotation"
    assert ready.json["status"] == "ok"
    assert ready.json["warnings"] == warned


@pytest.mark.parametrize(
    ("database", "settings"),
    [
        ("sqlite_empty_database", {"SEARCH_BACKEND": "whoosh"}),
        ("postgres_empty_database", {"SEARCH_BACKEND": "postgresql"}),
        ("postgres_empty_database", {"SEARCH_BACKEND": "whoosh", "SEARCH_ONE_HOST": "1"}),
    ],
    ids=["whoosh-on-sqlite", "postgresql-search", "whoosh-declared-one-host"],
)
def test_no_warning_where_search_is_shared_or_there_is_one_host(tmp_path, request, caplog, database, settings):
    application, warned = served(tmp_path, request.getfixturevalue(database), caplog, **settings)
    assert warned == []
    ready = application.test_client().get("/readyz")
    assert (ready.status_code, ready.json["warnings"]) == (200, [])
