"""DATABASE_URL: PostgreSQL addresses go through psycopg 3; a server database's pool checks its connections."""

from __future__ import annotations

import pytest

from kb.config import database_uri, engine_options, load_settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://kb:secret@db.example.org/kb", "postgresql+psycopg://kb:secret@db.example.org/kb"),
        ("postgresql://kb@db:5433/kb?sslmode=require", "postgresql+psycopg://kb@db:5433/kb?sslmode=require"),
        ("postgresql+psycopg://kb@db/kb", "postgresql+psycopg://kb@db/kb"),
        ("sqlite:////srv/kb/kb.sqlite3", "sqlite:////srv/kb/kb.sqlite3"),
    ],
)
def test_database_addresses(given, used):
    assert database_uri(given) == used


def test_a_postgresql_pool_checks_connections_before_use():
    options = engine_options("postgresql+psycopg://kb@db/kb")
    assert options["pool_pre_ping"] is True
    assert options["pool_recycle"] > 0


def test_sqlite_keeps_the_default_pool():
    assert engine_options("sqlite:///kb.sqlite3") == {}


def test_database_url_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://kb:secret@db.example.org/kb")
    settings = load_settings(tmp_path, {"SECRET_KEY": "x"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://kb:secret@db.example.org/kb"
    assert settings["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
