"""Binding the database to the app and keeping its schema at the latest migration."""

from __future__ import annotations

from pathlib import Path

import click
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade

from kb.config import PROJECT_ROOT
from kb.extensions import db, migrate

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


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
