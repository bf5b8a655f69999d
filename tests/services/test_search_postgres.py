"""What only the PostgreSQL search backend has: its choice by setting, its tables, weights, lock and commands.

The behaviour both backends share (visibility, facets, odd queries, relevance, comments
kept in step) is tested by the search tests themselves, run on each backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import inspect, select

from kb import create_app
from kb.config import ConfigurationError
from kb.entries.models import Entry, Lesson, Paper
from kb.extensions import db
from kb.permissions import ANONYMOUS
from kb.search.pg import indexing as pg_indexing
from kb.search.pg.tables import POSTGRES_ONLY_TABLES, search_documents
from kb.search.queue import pending_count
from kb.search.service import SearchRequest, SearchResults, search
from tests.pg_search import SEARCH_BACKENDS, in_context, postgres_search_app, postgres_server
from tests.web import seed


def find(text: str, **options: object) -> SearchResults:
    return search(ANONYMOUS, SearchRequest(text=text, per_page=50, **options))  # type: ignore[arg-type]


def slugs(text: str) -> list[str]:
    return [hit.entry.slug for hit in find(text).hits]


def public_paper(slug: str, title: str, *, summary: str = "A paper.", body: str = "") -> Paper:
    paper = Paper(
        slug=slug, title=title, summary=summary, body=body, status="published", visibility="public", sources=[]
    )
    db.session.add(paper)
    db.session.commit()
    return paper


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[Flask]:
    """The seeded site searching with PostgreSQL; a held lock is given up on quickly."""
    if "postgresql" not in SEARCH_BACKENDS:
        pytest.skip("KB_TEST_SEARCH_BACKENDS leaves out the PostgreSQL search backend")
    yield from in_context(postgres_search_app(tmp_path, seeded=True, SEARCH_LOCK_TIMEOUT=0.2))


# --- Choosing the backend ------------------------------------------------------


def _sqlite_settings(folder: Path, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": folder / "instance",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
        "SEARCH_INDEX_DIR": str(folder / "search_index"),
        "SECRET_KEY": "test-secret-key",
        "AUTO_MIGRATE": False,
        "SEARCH_REBUILD_AT_START": "off",
        **extra,
    }


def test_whoosh_is_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SEARCH_BACKEND", raising=False)
    assert create_app(_sqlite_settings(tmp_path)).config["SEARCH_BACKEND"] == "whoosh"


def test_the_backend_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCH_BACKEND", "PostgreSQL")
    with pytest.raises(ConfigurationError, match="needs a PostgreSQL database"):
        create_app(_sqlite_settings(tmp_path))


def test_postgresql_search_on_sqlite_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="SEARCH_BACKEND=postgresql needs a PostgreSQL database"):
        create_app(_sqlite_settings(tmp_path, SEARCH_BACKEND="postgresql"))


def test_an_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="SEARCH_BACKEND must be one of whoosh, postgresql"):
        create_app(_sqlite_settings(tmp_path, SEARCH_BACKEND="elastic"))


def test_the_search_tables_exist_only_on_postgresql(app, pg_app):
    """`app` is the suite's own database: without the tables on SQLite, with them on PostgreSQL."""
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert bool(POSTGRES_ONLY_TABLES & tables) == (db.engine.dialect.name == "postgresql")
    assert set(inspect(db.engine).get_table_names()) >= POSTGRES_ONLY_TABLES
    indexes = {index["name"]: index for index in inspect(db.engine).get_indexes("search_documents")}
    assert indexes["ix_search_documents_document"]["dialect_options"]["postgresql_using"] == "gin"


# --- Documents ------------------------------------------------------------------


def entry_count() -> int:
    return len(db.session.scalars(select(Entry.id)).all())


def test_every_seed_entry_has_its_document(pg_app):
    report = pg_indexing.check()
    assert report.in_step, report
    assert report.indexed == entry_count() == report.entries
    assert entry_count() >= len(seed.documents())


def test_each_part_carries_its_weight(pg_app):
    lesson = db.session.scalar(select(Lesson).order_by(Lesson.id).limit(1))
    lesson.title = "Zorblax title"
    lesson.summary = "Quenfid summary."
    lesson.recommendation = "Plimmet recommendation."
    lesson.body = "Vostrel body."
    db.session.commit()
    vector = db.session.scalar(
        select(search_documents.c.document.cast(db.Text)).where(search_documents.c.entry_id == lesson.id)
    )
    for word, weight in (("zorblax", "A"), ("quenfid", "B"), ("plimmet", "C"), ("vostrel", "")):
        assert f"'{word}':" in vector
        places = vector.split(f"'{word}':")[1].split(" ")[0]
        assert places.endswith(weight), (word, places)
        assert weight or places[-1].isdigit(), (word, places)


def test_a_word_in_the_title_outranks_the_same_word_in_the_body(pg_app):
    public_paper("in-the-body", "A paper", body="Tamsenwold is mentioned here once, among other words.")
    public_paper("in-the-title", "Tamsenwold", body="Nothing else.")
    assert slugs("tamsenwold") == ["in-the-title", "in-the-body"]


def test_a_phrase_does_not_run_from_the_title_into_the_summary(pg_app):
    public_paper("two-parts", "Ends with marrowfen", summary="Quillet starts the summary.")
    assert slugs("marrowfen quillet") == ["two-parts"]
    assert slugs('"marrowfen quillet"') == []


def test_an_edit_is_searchable_once_saved_and_the_old_words_are_gone(pg_app):
    paper = public_paper("retitled", "Brackenwise findings")
    assert slugs("brackenwise") == ["retitled"]
    paper.title = "Thornlacey findings"
    db.session.commit()
    assert slugs("brackenwise") == []
    assert slugs("thornlacey") == ["retitled"]
    db.session.delete(paper)
    db.session.commit()
    assert slugs("thornlacey") == []
    assert pg_indexing.check().in_step


def test_snippets_are_escaped_and_marked(pg_app):
    public_paper("markup", "Escaping", summary='When 5 < 7 & glenhollow > 2, say "<b".')
    [hit] = find("glenhollow").hits
    snippet = str(hit.snippet)
    assert "5 &lt; 7 &amp; <mark>glenhollow</mark> &gt; 2" in snippet
    assert "<b" not in snippet
    assert hit.snippet_label == "Summary"


def test_an_entry_that_cannot_be_indexed_keeps_its_save_and_is_retried_by_the_next_drain(pg_app, monkeypatch):
    broken: set[int] = set()
    original = pg_indexing.index_document

    def index_document(entry: Entry, *args: object) -> dict[str, object]:
        if entry.id in broken:
            raise RuntimeError(f"cannot index entry {entry.id}")
        return original(entry, *args)

    monkeypatch.setattr(pg_indexing, "index_document", index_document)
    paper = public_paper("fails-once", "Wrenfield notes")
    broken.add(paper.id)
    paper.title = "Ashgrove notes"
    db.session.commit()
    assert db.session.scalar(select(Entry.title).where(Entry.id == paper.id)) == "Ashgrove notes"
    assert (slugs("ashgrove"), slugs("wrenfield")) == ([], ["fails-once"])
    broken.clear()
    report = pg_indexing.check()
    assert (report.stale, report.pending) == ([paper.id], 1)
    public_paper("another-save", "Another save")  # Its drain takes every pending row, the failed one too.
    assert slugs("ashgrove") == ["fails-once"]
    assert pg_indexing.check().in_step


# --- Several processes -----------------------------------------------------------


def test_a_save_while_another_process_writes_documents_is_indexed_by_the_next_drain(pg_app):
    """The save stands; its change waits in the queue and the first drain after the lock is free writes it."""
    server = postgres_server()
    database = pg_app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    with psycopg.connect(server.database_url(database, driver="postgresql"), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (pg_indexing.DRAIN_LOCK,))
        public_paper("while-locked", "Sallowmere report")
        assert pending_count(db.session) == 1
        assert slugs("sallowmere") == []
        other.execute("SELECT pg_advisory_unlock(%s)", (pg_indexing.DRAIN_LOCK,))
    assert slugs("sallowmere") == ["while-locked"]
    assert pending_count(db.session) == 0


# --- Commands ----------------------------------------------------------------------


def run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["search", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_rebuild_check_and_drain_commands(pg_app):
    first = select(Entry.id).order_by(Entry.id).limit(1).scalar_subquery()
    db.session.execute(search_documents.delete().where(search_documents.c.entry_id == first))
    db.session.commit()
    result = pg_app.test_cli_runner().invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "1 missing from the index" in result.output
    count = entry_count()
    assert f"Search index rebuilt: {count} entries, now in use (PostgreSQL search documents)." in run(pg_app, "rebuild")
    assert "The index is in step with the database." in run(pg_app, "check")
    assert "Indexed 0 queued entries; 0 failed." in run(pg_app, "drain")
