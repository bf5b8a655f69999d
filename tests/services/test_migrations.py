"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL.

Every migration is applied one at a time to an empty database of each kind, then all are
undone and applied again, so none relies on what only one database allows. Two processes
migrating one empty PostgreSQL database at once take turns and both succeed.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, column, func, insert, inspect, select, table
from sqlalchemy.exc import IntegrityError

from kb import create_app
from kb.config import PROJECT_ROOT
from kb.database import MIGRATIONS_DIR, schema_revision
from kb.extensions import db
from tests.conftest import ENVIRONMENT_SETTINGS
from tests.postgres import PostgresServer


def _postgres_only_tables() -> frozenset[str]:
    """Tables the PostgreSQL search backend keeps outside the models' metadata."""
    try:
        from kb.search.pg.tables import POSTGRES_ONLY_TABLES
    except ImportError:
        return frozenset()
    return POSTGRES_ONLY_TABLES


def schema_differences() -> list[object]:
    """What the migrated database lacks or has beyond the models."""
    ignored = _postgres_only_tables() if db.engine.dialect.name == "postgresql" else frozenset()

    def include(item: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        table = name if kind == "table" else getattr(getattr(item, "table", None), "name", None)
        return table not in ignored

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include})
        return list(compare_metadata(context, db.metadata))


def migrations_in_order() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def test_models_and_migrations_agree(app):
    differences = schema_differences()
    assert differences == [], f"the models differ from the migrated schema; add a migration: {differences}"


def test_the_database_is_at_the_latest_migration(app):
    assert schema_revision() == migrations_in_order()[-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database with no tables at all, of each kind."""
    if request.param == "sqlite":
        uri, drop = f"sqlite:///{tmp_path / 'blank.sqlite3'}", None
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"blank_{uuid.uuid4().hex[:12]}"
        uri, drop = server.create_database(name), name
    settings = {
        "TESTING": True,
        "INSTANCE_PATH": tmp_path / "instance",
        "SQLALCHEMY_DATABASE_URI": uri,
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "SECRET_KEY": "test-secret-key",
        "AUTO_MIGRATE": False,
        "SEARCH_REBUILD_AT_START": "off",
    }
    application = create_app(settings)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    if drop:
        server.drop_database(drop)


def table_names() -> set[str]:
    """The tables in the database now."""
    return set(inspect(db.engine).get_table_names())


def test_every_migration_runs_from_empty_to_head(blank_app):
    assert schema_revision() is None
    for revision in migrations_in_order():
        upgrade(directory=str(MIGRATIONS_DIR), revision=revision)
        assert schema_revision() == revision
    differences = schema_differences()
    assert differences == [], f"{db.engine.dialect.name}: the models differ from the migrated schema: {differences}"


def test_every_migration_can_be_undone_and_applied_again(blank_app):
    upgrade(directory=str(MIGRATIONS_DIR))
    downgrade(directory=str(MIGRATIONS_DIR), revision="base")
    assert schema_revision() is None
    assert table_names() <= {"alembic_version"}
    upgrade(directory=str(MIGRATIONS_DIR))
    assert schema_revision() == migrations_in_order()[-1]
    assert {"entries", "users", "comments", "consultations"} <= table_names()


# A host starting: its app is built, it waits at the line (a file), then migrates as start-up does.
HOST_STARTING = """
import pathlib, sys, time
from kb import create_app
from kb.database import upgrade_database
app = create_app()
pathlib.Path(sys.argv[1]).touch()
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.005)
with app.app_context():
    upgrade_database()
"""


def _host_starting(uri: str, folder: Path, name: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key not in ENVIRONMENT_SETTINGS}
    env.update(
        DATABASE_URL=uri,
        SECRET_KEY="migration-test-secret",
        KB_AUTO_MIGRATE="0",
        SEARCH_INDEX_DIR=str(folder / f"index-{name}"),
        SEARCH_REBUILD_AT_START="off",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    command = [sys.executable, "-c", HOST_STARTING, str(folder / f"{name}.ready"), str(folder / "go")]
    return subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_hosts_migrating_an_empty_postgresql_database_at_once_both_succeed(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    name = f"race_{uuid.uuid4().hex[:12]}"
    uri = postgres_server.create_database(name)
    try:
        hosts = [_host_starting(uri, tmp_path, host) for host in ("one", "two")]
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"{host}.ready").exists() for host in ("one", "two")):
            assert all(host.poll() is None for host in hosts), [host.communicate() for host in hosts]
            assert time.monotonic() < deadline, "the two hosts did not get ready"
            time.sleep(0.01)
        (tmp_path / "go").touch()  # Both migrate from here, at the same moment.
        outputs = [host.communicate(timeout=120) for host in hosts]
        assert [host.returncode for host in hosts] == [0, 0], outputs

        settings = {
            "TESTING": True,
            "INSTANCE_PATH": tmp_path / "instance",
            "SQLALCHEMY_DATABASE_URI": uri,
            "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
            "SECRET_KEY": "test-secret-key",
            "AUTO_MIGRATE": False,
            "SEARCH_REBUILD_AT_START": "off",
        }
        application = create_app(settings)
        with application.app_context():
            assert schema_revision() == migrations_in_order()[-1]
            assert db.session.scalar(select(func.count()).select_from(table("alembic_version"))) == 1
            assert schema_differences() == []
            db.session.remove()
            db.engine.dispose()
    finally:
        postgres_server.drop_database(name)


def test_the_stored_renderings_migration_renders_existing_texts_as_saving_does(seeded_app: Flask) -> None:
    """Migration d5a7c3e9f412 fills the new columns of rows saved before it as the services would have."""
    from kb.panels.models import Finding, FindingLink
    from kb.panels.service import FindingText, create_finding
    from tests.accounts import make_cast
    from tests.outcome_factory import make_consultation

    cast = make_cast()
    text = FindingText("Cost came first", "See [[procurement-weighted-towards-cost]].", "Weigh quality.")
    finding = create_finding(cast.review, text, actor=cast.panel)
    finding_id = finding.id
    consultation = make_consultation(cast.review)
    consultation.we_asked = "We asked *this*."
    db.session.commit()
    saved = (finding.body_html, finding.revisions[0].recommendations_html, consultation.we_asked_html)
    db.session.remove()
    downgrade(directory=str(MIGRATIONS_DIR), revision="b8d41f6a2c93")
    upgrade(directory=str(MIGRATIONS_DIR))
    finding = db.session.get(Finding, finding_id)
    assert finding is not None
    consultation = db.session.get(type(consultation), consultation.id)
    assert (finding.body_html, finding.revisions[0].recommendations_html, consultation.we_asked_html) == saved
    assert saved[2] == "<p>We asked <em>this</em>.</p>"
    assert 'href="/lessons/procurement-weighted-towards-cost"' in saved[0]
    assert db.session.scalar(select(func.count()).select_from(FindingLink)) == 1


STATE_MIGRATION = "ffd3c7adc303"


def _insert(table_name: str, **values: object) -> None:
    """Insert one row in its own transaction (so a refused one leaves nothing behind)."""
    columns = [column(name) for name in values]
    with db.engine.begin() as connection:
        connection.execute(insert(table(table_name, *columns)).values(**values))


def _organisation(name: str, kind: str) -> dict[str, object]:
    return {"name": name, "type": kind, "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}


def _entry(slug: str, **states: str) -> dict[str, object]:
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    row: dict[str, object] = {"kind": "lesson", "status": "published", "visibility": "public"}
    row |= {"slug": slug, "title": slug, "summary": "", "body": "", "sources": "[]", "created_at": when}
    return row | {"updated_at": when, "locked": False} | states


def test_the_database_refuses_a_state_it_does_not_know(blank_app):
    upgrade(directory=str(MIGRATIONS_DIR))
    _insert("organisations", **_organisation("Known", "ambulance-service"))
    _insert("entries", **_entry("known"))
    refused = [
        ("organisations", _organisation("Unknown", "ambulance")),
        ("entries", _entry("misspelt-status", status="publshed")),
        ("entries", _entry("unknown-visibility", visibility="everyone")),
        ("entries", _entry("unknown-kind", kind="note")),
    ]
    for table_name, row in refused:
        with pytest.raises(IntegrityError):
            _insert(table_name, **row)
    with db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(table("entries"))).scalar() == 1


def test_every_state_constraint_of_the_models_is_in_the_migrated_database(blank_app):
    upgrade(directory=str(MIGRATIONS_DIR))
    inspector = inspect(db.engine)
    declared = {
        (model_table.name, constraint.name)
        for model_table in db.metadata.tables.values()
        for constraint in model_table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    migrated = {
        (model_table.name, reflected["name"])
        for model_table in db.metadata.tables.values()
        for reflected in inspector.get_check_constraints(model_table.name)
    }
    assert ("entries", "ck_entries_status") in declared
    assert declared == migrated


def test_the_state_migration_stops_naming_a_stored_state_it_does_not_know(blank_app, caplog):
    before = migrations_in_order()[migrations_in_order().index(STATE_MIGRATION) - 1]
    upgrade(directory=str(MIGRATIONS_DIR), revision=before)
    _insert("organisations", **_organisation("Odd", "charity"))
    with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error and exits
        upgrade(directory=str(MIGRATIONS_DIR), revision=STATE_MIGRATION)
    assert "organisations.type = 'charity'" in caplog.text
    assert schema_revision() == before


def test_the_current_renderings_migration_stores_evidence_and_paragraphs_as_saving_does(seeded_app: Flask) -> None:
    """Migration f4c2e8a1b9d3 renders a current revision stored without its evidence or paragraphs as saving does."""
    import dataclasses

    from kb.content.document import parse_document, serialise_document
    from kb.entries.models import Entry
    from kb.entries.service import apply_document, current_revision, record_revision

    public = (Entry.status == "published", Entry.visibility == "public")
    paper = db.session.scalar(select(Entry).where(Entry.kind == "paper", *public).order_by(Entry.id).limit(1))
    lesson = db.session.scalar(select(Entry).where(Entry.kind == "lesson", *public).order_by(Entry.id).limit(1))
    assert paper is not None
    assert lesson is not None
    revision = current_revision(lesson)
    assert revision is not None
    document = parse_document(revision.document, lesson.slug).document
    assert document is not None
    document = dataclasses.replace(document, action_evidence=f"Done, as [[{paper.slug}]] shows.")
    apply_document(document, lesson)
    record_revision(lesson, document, serialise_document(document), author_name="test", message="Evidence")
    db.session.commit()
    saved = {}
    for entry in (lesson, paper):
        revision = current_revision(entry)
        assert revision is not None
        saved[entry.id] = revision.rendered
        # As stored before evidence and paragraphs were kept with the texts.
        old = {key: dict(part) for key, part in revision.rendered.items() if key != "action_evidence"}
        old.get("body", {}).pop("paragraphs", None)
        revision.rendered = old
    db.session.commit()
    assert f'href="{paper.path}"' in saved[lesson.id]["action_evidence"]["html"]
    assert saved[paper.id]["body"]["paragraphs"]
    db.session.remove()
    downgrade(directory=str(MIGRATIONS_DIR), revision="ffd3c7adc303")
    upgrade(directory=str(MIGRATIONS_DIR))
    for entry_id, rendered in saved.items():
        entry = db.session.get(Entry, entry_id)
        assert entry is not None
        revision = current_revision(entry)
        assert revision is not None
        assert revision.rendered == rendered


REGIONS_MIGRATION = "c5f2a8d3e6b1"


def test_the_regions_migration_writes_other_spellings_as_the_list_does_and_logs_the_rest(blank_app, caplog):
    before = migrations_in_order()[migrations_in_order().index(REGIONS_MIGRATION) - 1]
    upgrade(directory=str(MIGRATIONS_DIR), revision=before)
    stored = {"spelt": "North west", "spaced": "  north-WEST ", "listed": "Bristol", "synonym": "National"}
    stored |= {"unknown": "Atlantis", "none": None}
    for slug, region in stored.items():
        _insert("entries", **_entry(slug, region=region))
    _insert("organisations", **_organisation("Odd place", "provider"), region="Middle Earth")
    _insert("organisations", **_organisation("Yorkshire", "provider"), region="yorkshire & the humber")
    upgrade(directory=str(MIGRATIONS_DIR), revision=REGIONS_MIGRATION)
    with db.engine.connect() as connection:
        entries = dict(connection.execute(select(column("slug"), column("region")).select_from(table("entries"))).all())
        organisations = dict(
            connection.execute(select(column("name"), column("region")).select_from(table("organisations"))).all()
        )
        listed = list(connection.execute(select(column("name")).select_from(table("regions"))).scalars())
    assert entries == {
        "spelt": "North West",
        "spaced": "North West",
        "listed": "Bristol",
        "synonym": "England",
        "unknown": "Atlantis",
        "none": None,
    }
    assert organisations == {"Odd place": "Middle Earth", "Yorkshire": "Yorkshire and the Humber"}
    assert {"England", "North West", "Bristol", "Wales"} <= set(listed)
    assert "entries.unknown: 'Atlantis'" in caplog.text
    assert "organisations.Odd place: 'Middle Earth'" in caplog.text
    assert "spelt" not in caplog.text


def test_the_topic_choices_migration_keeps_notifications_listed_and_undoes_digest_only_ones(blank_app):
    before = migrations_in_order()[migrations_in_order().index("b7e4d1c9a3f6") - 1]
    upgrade(directory=str(MIGRATIONS_DIR), revision=before)
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    _insert(
        "users",
        email="a@example.org",
        display_name="A",
        role="member",
        active=True,
        session_token="t",
        is_demo=False,
        created_at=when,
    )
    with db.engine.connect() as connection:
        user_id = connection.execute(select(column("id")).select_from(table("users"))).scalar_one()
    _insert("notifications", user_id=user_id, kind="follow", message="Old one", link="/", created_at=when)
    upgrade(directory=str(MIGRATIONS_DIR), revision="b7e4d1c9a3f6")
    notifications = table("notifications", column("message"), column("in_app"), column("for_digest"))
    with db.engine.connect() as connection:
        assert connection.execute(select(notifications)).all() == [("Old one", True, False)]
    _insert(
        "notifications",
        user_id=user_id,
        kind="published",
        message="Digest only",
        link="/",
        created_at=when,
        in_app=False,
    )
    _insert(
        "notification_choices", user_id=user_id, topic="panel_work", in_app=False, delivery="digest", updated_at=when
    )
    with pytest.raises(IntegrityError):
        _insert(
            "notification_choices", user_id=user_id, topic="receipts", in_app=True, delivery="weekly", updated_at=when
        )
    downgrade(directory=str(MIGRATIONS_DIR), revision=before)
    with db.engine.connect() as connection:
        assert connection.execute(select(column("message")).select_from(table("notifications"))).scalars().all() == [
            "Old one"
        ]
    assert "notification_choices" not in table_names()


def test_the_topic_choices_migration_keeps_older_mail_switches_off(blank_app):
    before = migrations_in_order()[migrations_in_order().index("b7e4d1c9a3f6") - 1]
    upgrade(directory=str(MIGRATIONS_DIR), revision=before)
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids: dict[str, int] = {}
    for name in ("quiet-mentions", "quiet-replies", "all-on", "no-row"):
        _insert(
            "users",
            email=f"{name}@example.org",
            display_name=name,
            role="member",
            active=True,
            session_token=name,
            is_demo=False,
            created_at=when,
        )
        with db.engine.connect() as connection:
            users = table("users", column("id"), column("email"))
            ids[name] = connection.execute(
                select(users.c.id).where(users.c.email == f"{name}@example.org")
            ).scalar_one()
    switches = {"quiet-mentions": (False, True), "quiet-replies": (True, False), "all-on": (True, True)}
    for name, (mentions, replies) in switches.items():
        _insert(
            "notification_settings",
            user_id=ids[name],
            mail_mentions=mentions,
            mail_replies=replies,
            mail_moderation=True,
            mail_digest=True,
            updated_at=when,
        )
    upgrade(directory=str(MIGRATIONS_DIR), revision="b7e4d1c9a3f6")
    choices = table("notification_choices", column("user_id"), column("topic"), column("in_app"), column("delivery"))
    with db.engine.connect() as connection:
        rows = connection.execute(select(choices)).all()
    by_person = {name: sorted((row[1], row[2], row[3]) for row in rows if row[0] == ids[name]) for name in ids}
    assert by_person["quiet-mentions"] == [("finding_talk", True, "none")]
    replies_topics = ["agreement_lost", "consultations", "panel_work", "publication", "receipts"]
    assert by_person["quiet-replies"] == [(topic, True, "none") for topic in replies_topics]
    assert by_person["all-on"] == []
    assert by_person["no-row"] == []
