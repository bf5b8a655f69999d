"""Documents in search: each page of an entry's current documents is found through its entry, names its page.

Documents are made straight through the model (as the upload service stores them), so the
session hooks queue their entries and the drain after each commit indexes them for real.
A page is exactly as visible as its entry; a replaced or removed document drops out. Every
test runs on each search backend (Whoosh, PostgreSQL full-text search).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from kb.documents.links import document_page_link
from kb.documents.models import Document, DocumentPage
from kb.entries.models import Entry, Lesson, Paper, Review
from kb.extensions import db
from kb.permissions import ANONYMOUS, Viewer, viewer_for
from kb.search.lifecycle import queue_for_indexing
from kb.search.models import SearchQueueItem
from kb.search.service import SearchRequest, SearchResults, search
from kb.search.types import MAX_PAGE_HITS
from tests.accounts import make_user
from tests.document_rows import add_document, remove_document, replace_document
from tests.pg_search import SEARCH_BACKENDS, check_search, rebuild_search, search_app

VIEWERS = ("anonymous", "member", "panel", "moderator")
ENTRIES = ("public", "members", "panel", "draft")
SEES: dict[str, set[str]] = {
    "anonymous": {"public"},
    "member": {"public", "members"},
    "panel": {"public", "members", "panel"},
    "moderator": set(ENTRIES),
}
"""Whose document pages each viewer may find, written out from the rule."""
PHRASE = "ferngully tidewater arrangements"
"""Only on page 3 of the public paper's minutes."""
FILLER = "The committee met and agreed the minutes of the last meeting."


def pages_with_phrase_on(number: int, count: int = 5) -> list[str]:
    return [
        f"Page {n}. {FILLER} " + (f"We noted the {PHRASE} here." if n == number else "") for n in range(1, count + 1)
    ]


def word_for(name: str) -> str:
    """A word only the document of entry `name` holds, on its second page."""
    return f"vell{name}qz"


@dataclass
class World:
    app: Flask
    viewers: dict[str, Viewer]
    entries: dict[str, Entry]


@pytest.fixture(params=SEARCH_BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path, empty_database: Path) -> Iterator[World]:
    app = search_app(request.param, tmp_path, empty_database, seeded=False)
    with app.app_context():
        review = Review(slug="panel-review", title="Panel review", commissioning_body="Board", body="Terms.")
        db.session.add(review)
        db.session.commit()
        users = {
            "member": make_user("member@example.org", password=None),
            "panel": make_user("panel@example.org", password=None, panels=(review,)),
            "moderator": make_user("moderator@example.org", role="moderator", password=None),
        }
        entries: dict[str, Entry] = {}
        for name in ENTRIES:
            entry = Paper(
                slug=f"paper-{name}",
                title=f"Paper seen by {name}",
                summary="Meeting papers.",
                body="The agenda.",
                status="draft" if name == "draft" else "published",
                visibility="public" if name == "draft" else name,
                review_id=review.id if name == "panel" else None,
            )
            db.session.add(entry)
            entries[name] = entry
        db.session.commit()
        add_document(entries["public"], "Minutes of March", pages_with_phrase_on(3))
        for name in ENTRIES:
            add_document(entries[name], f"Annex for {name}", ["Cover.", f"Annex text with {word_for(name)}."])
        viewers = {"anonymous": ANONYMOUS, **{name: viewer_for(users[name]) for name in VIEWERS[1:]}}
        yield World(app, viewers, entries)
        db.session.remove()
        db.engine.dispose()


def find(world: World, viewer: str, text: str, **options: object) -> SearchResults:
    return search(world.viewers[viewer], SearchRequest(text=text, **options))  # type: ignore[arg-type]


def slugs(results: SearchResults) -> set[str]:
    return {hit.entry.slug for hit in results.hits}


def documents_of(entry: Entry) -> list[Document]:
    return list(db.session.scalars(select(Document).where(Document.entry_id == entry.id).order_by(Document.id)))


def in_step() -> bool:
    report = check_search()
    assert report.in_step, report
    return report.in_step


def test_the_link_to_a_page_is_its_section_on_the_text_view():
    assert document_page_link("/papers/minutes", 7, 3) == "/papers/minutes/documents/7#page-3"


def test_a_phrase_only_on_page_3_is_found_and_the_hit_names_the_document_and_page(world):
    results = find(world, "anonymous", f'"{PHRASE}"')
    assert results.total == 1
    [hit] = results.hits
    assert hit.entry.slug == "paper-public"
    [page] = hit.pages
    assert page.number == 3
    assert page.document_title == "Minutes of March"
    assert page.label == "In Minutes of March, page 3"
    assert page.link == f"/papers/paper-public/documents/{page.document_id}#page-3"
    assert "<mark>" in str(page.snippet)
    assert "ferngully" in str(page.snippet).lower()
    assert hit.link == "/papers/paper-public"


def test_words_of_a_page_found_separately_still_name_the_page_holding_them(world):
    [hit] = find(world, "anonymous", "ferngully tidewater").hits
    assert [page.number for page in hit.pages] == [3]


def test_a_word_on_many_pages_lists_a_few_of_them(world):
    add_document(world.entries["public"], "Long report", [f"Page {n} on quorate meetings." for n in range(1, 30)])
    [hit] = find(world, "anonymous", "quorate").hits
    assert len(hit.pages) == MAX_PAGE_HITS
    assert {page.document_title for page in hit.pages} == {"Long report"}


def test_the_document_title_is_searchable(world):
    assert slugs(find(world, "anonymous", "March")) == {"paper-public"}


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("name", ENTRIES)
def test_a_page_is_found_exactly_by_those_who_may_see_its_entry(world, viewer, name):
    results = find(world, viewer, word_for(name))
    if name in SEES[viewer]:
        assert slugs(results) == {f"paper-{name}"}
        [hit] = results.hits
        assert [page.number for page in hit.pages] == [2]
    else:
        assert (results.total, results.hits) == (0, [])
        assert all(not counts for counts in results.facets.values())
        assert results.suggestion is None
        assert results.corrected_from is None


def test_a_replaced_document_drops_out_and_its_new_version_is_found(world):
    minutes = next(d for d in documents_of(world.entries["public"]) if d.title == "Minutes of March")
    replace_document(minutes, "Minutes of March, corrected", ["Page one.", "Now about the brackenmoor rota."])
    assert find(world, "anonymous", f'"{PHRASE}"').total == 0
    [hit] = find(world, "anonymous", "brackenmoor").hits
    assert [(page.document_title, page.number) for page in hit.pages] == [("Minutes of March, corrected", 2)]
    assert in_step()


def test_a_removed_document_drops_out(world):
    annex = next(d for d in documents_of(world.entries["members"]) if d.title.startswith("Annex"))
    remove_document(annex)
    for viewer in VIEWERS:
        assert find(world, viewer, word_for("members")).total == 0, viewer
    assert in_step()


def test_an_entry_that_becomes_hidden_takes_its_pages_with_it(world):
    entry = world.entries["public"]
    entry.status = "hidden"
    db.session.commit()
    assert find(world, "anonymous", f'"{PHRASE}"').total == 0
    assert find(world, "moderator", f'"{PHRASE}"').total == 1


def test_check_sees_a_page_changed_behind_the_index_and_a_queued_entry_puts_it_right(world):
    """The fingerprint covers page text: a bulk update (which no flush sees) leaves the entry stale."""
    entry = world.entries["members"]
    annex = next(d for d in documents_of(entry) if d.title.startswith("Annex"))
    db.session.execute(
        update(DocumentPage).where(DocumentPage.document_id == annex.id).values(text="Rewritten: mirewold.")
    )
    db.session.commit()
    assert check_search().stale == [entry.id]
    queue_for_indexing(db.session, {entry.id})
    db.session.commit()
    assert in_step()
    assert slugs(find(world, "member", "mirewold")) == {"paper-members"}


def test_editing_a_page_reindexes_its_entry(world):
    annex = next(d for d in documents_of(world.entries["public"]) if d.title.startswith("Annex"))
    annex.pages[0].text = "Cover now says thistledown."
    db.session.commit()
    assert slugs(find(world, "anonymous", "thistledown")) == {"paper-public"}
    assert in_step()


def test_a_rebuild_includes_pages(world):
    assert rebuild_search() == len(ENTRIES) + 1
    assert in_step()
    [hit] = find(world, "anonymous", f'"{PHRASE}"').hits
    assert [page.number for page in hit.pages] == [3]


def page_queries(world: World, text: str, viewer: str = "anonymous") -> tuple[SearchResults, int]:
    """A search and how many statements it sent to the document pages table."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        results = find(world, viewer, text)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return results, sum("document_pages" in statement for statement in statements)


def test_pages_are_not_read_for_results_without_documents(world):
    lesson = Lesson(slug="plain", title="Plain lesson", summary="About gorsemarsh.", lesson_text="Text.")
    lesson.status, lesson.visibility = "published", "public"
    db.session.add(lesson)
    db.session.commit()
    results, queries = page_queries(world, "gorsemarsh")
    assert slugs(results) == {"plain"}
    assert results.hits[0].pages == ()
    assert queries == 0


def test_a_results_page_reads_pages_in_one_query(world):
    results, queries = page_queries(world, "annex", "moderator")
    assert len(results.hits) == len(ENTRIES)
    assert queries == 1


@pytest.mark.skipif("postgresql" not in SEARCH_BACKENDS, reason="the tsvector limits are PostgreSQL's")
def test_a_long_document_of_distinct_words_is_indexed_on_postgresql(tmp_path: Path, empty_database: Path) -> None:
    app = search_app("postgresql", tmp_path, empty_database, seeded=False)
    with app.app_context():
        paper = Paper(slug="long-paper", title="Paper with a zorblatt annex", summary="Papers.", body="The agenda.")
        paper.status, paper.visibility = "published", "public"
        db.session.add(paper)
        db.session.commit()
        words = [f"idq{number:06d}v" for number in range(120_000)]  # Well over 1 MB as a tsvector.
        pages = [
            f"Page {start // 1000 + 1}: " + " ".join(words[start : start + 1000]) for start in range(0, 120_000, 1000)
        ]
        pages[-1] += " Last comes a wombatquill."
        add_document(paper, "Register of identifiers", pages)
        queued = db.session.scalars(select(SearchQueueItem).where(SearchQueueItem.entry_id == paper.id)).all()
        assert queued
        assert all(item.indexed_at is not None and item.last_error is None for item in queued)
        for word in ("zorblatt", words[7]):
            assert [hit.entry.slug for hit in search(ANONYMOUS, SearchRequest(text=word)).hits] == ["long-paper"]
        [hit] = search(ANONYMOUS, SearchRequest(text=words[7])).hits
        assert [page.number for page in hit.pages] == [1]
        # Page 120 is past the part of the pages PostgreSQL searches.
        assert search(ANONYMOUS, SearchRequest(text="wombatquill")).hits == []
        db.session.remove()
        db.engine.dispose()
