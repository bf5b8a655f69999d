"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from kb.database import schema_revision
from kb.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == [], f"the models differ from the migrated schema; add a migration: {differences}"


def test_the_database_is_at_the_latest_migration(app):
    config = current_app.extensions["migrate"].migrate.get_config()
    assert schema_revision() == ScriptDirectory.from_config(config).get_current_head()
