"""Binding the database to the app and keeping its schema at the latest migration.

On PostgreSQL every run of the migrations (at start, or `flask db upgrade`) holds one
advisory lock for its transaction, so hosts starting together on one database migrate one
after another: the later ones find the schema already at the latest migration.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import Connection, text

from kb.config import PROJECT_ROOT
from kb.extensions import db, migrate

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
MIGRATION_LOCK_ID = 0x6B62_6D69_6772_6174
"""The PostgreSQL advisory lock (a bigint: "kbmigrat") held while the migrations run."""

log = logging.getLogger(__name__)


def init_database(app: Flask) -> None:
    """Bind SQLAlchemy and Alembic; upgrade to the latest schema unless disabled."""
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    if app.config["AUTO_MIGRATE"]:
        with app.app_context():
            upgrade_database()


def schema_revision() -> str | None:
    """The migration the database is at, or None for an empty database."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database() -> None:
    """Apply every migration not yet applied (needs an app context); say so when one ran."""
    before = schema_revision()
    upgrade(directory=str(MIGRATIONS_DIR))
    after = schema_revision()
    if after != before:
        click.echo(f"Database upgraded from {before or 'empty'} to {after}.", err=True)


def lock_for_migrations(connection: Connection) -> None:
    """On PostgreSQL, wait for the migration lock in `connection`'s transaction (released when it ends).

    Called by `migrations/env.py` as the first statement of the migrations' transaction,
    before Alembic reads or creates `alembic_version`. Without it two hosts starting on an
    empty database both create that table, and one of them fails to start. SQLite needs
    nothing: it lets one writer at a time in anyway.
    """
    if connection.dialect.name != "postgresql":
        return
    taken = connection.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    if not taken:
        log.info("Another process is migrating this database; waiting for it to finish")
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
