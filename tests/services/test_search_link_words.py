"""Search texts and snippets read `[[slug]]` links as the entry's page shows them, on each search backend.

A link reads as its target's title, or the words given with it; where the page may not
show the target (unknown, or not readable by every reader of the linking entry), as its
words or its slug, so a hidden entry's title never reaches the index through a link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from kb.content.service import import_directory
from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import ANONYMOUS, Viewer, viewer_for
from kb.search.service import SearchRequest, search
from kb.search.types import FEW_RESULTS, Hit
from tests.accounts import make_user
from tests.pg_search import SEARCH_BACKENDS, check_search, search_app
from tests.services.content_files import lesson_text, paper_text, write

TARGET = "zq-target-slug"
SECRET = "members-only-target"
LINKER = "linking-paper"
LINKING_BODY = f"As [[{TARGET}]] showed, and [[{TARGET}|the quorble story]] told. Also [[{SECRET}]]."


def _import(root: Path, target_title: str) -> None:
    write(root, f"lessons/{TARGET}.md", lesson_text(TARGET, f"Zarquon launch {target_title}"))
    write(root, f"lessons/{SECRET}.md", lesson_text(SECRET, "Flibbert overrun kept to members", visibility="members"))
    write(root, f"papers/{LINKER}.md", paper_text(LINKER, "A paper that links", body=LINKING_BODY))
    report = import_directory(root)
    assert report.problems == [], [str(problem) for problem in report.problems]
    db.session.commit()


@pytest.fixture(params=SEARCH_BACKENDS)
def linked_app(request: pytest.FixtureRequest, tmp_path: Path, empty_database: Path) -> Iterator[Flask]:
    app = search_app(request.param, tmp_path / "app", empty_database, seeded=False)
    with app.app_context():
        _import(tmp_path / "content", "slipped badly")
        yield app
        db.session.remove()
        db.engine.dispose()


def _hit(viewer: Viewer, text: str, slug: str) -> Hit | None:
    results = search(viewer, SearchRequest(text=text))
    return next((hit for hit in results.hits if hit.entry.slug == slug), None)


def _words(hit: Hit) -> str:
    return re.sub(r"<[^>]+>", "", str(hit.snippet))


def test_a_link_reads_as_its_targets_title_in_search_and_snippet(linked_app):
    hit = _hit(ANONYMOUS, "zarquon", LINKER)
    assert hit is not None
    assert "Zarquon launch slipped badly showed" in _words(hit)
    assert TARGET not in _words(hit)
    assert _hit(ANONYMOUS, "zq", LINKER) is None, "the slug's words are not the link's words"


def test_a_link_with_words_reads_as_its_words(linked_app):
    hit = _hit(ANONYMOUS, "quorble", LINKER)
    assert hit is not None
    assert "the quorble story told" in _words(hit)


def test_a_link_to_an_entry_some_readers_may_not_see_reads_as_its_slug(linked_app):
    member = viewer_for(make_user("member@example.org", password=None))
    assert _hit(member, "flibbert", SECRET) is not None
    assert _hit(member, "flibbert", LINKER) is None
    hit = _hit(ANONYMOUS, "zarquon", LINKER)
    assert hit is not None
    assert "Flibbert" not in _words(hit)


def test_the_documents_are_in_step_with_the_links(linked_app):
    report = check_search()
    assert report.in_step, report


def test_renaming_the_target_brings_the_linking_entry_up_to_date(linked_app, tmp_path):
    _import(tmp_path / "content", "ran very late")
    hit = _hit(ANONYMOUS, "ran very late", LINKER)
    assert hit is not None
    assert "Zarquon launch ran very late showed" in _words(hit)
    assert _hit(ANONYMOUS, "slipped", LINKER) is None
    report = check_search()
    assert report.in_step, report


def test_a_target_retitled_behind_the_index_leaves_the_linking_entry_stale(linked_app):
    db.session.execute(update(Entry).where(Entry.slug == TARGET).values(title="Retitled behind the index"))
    db.session.commit()
    linker = db.session.scalar(select(Entry.id).where(Entry.slug == LINKER))
    assert linker in check_search().stale


def _statements_of(work: Callable[[], object]) -> int:
    """How many SQL statements `work` sends."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_a_page_of_results_reads_its_links_in_as_many_statements_however_many_hits_have_links(linked_app, tmp_path):
    """The link targets of every hit on the page are looked up together, not one hit at a time."""
    content = tmp_path / "content"

    def add_linkers(numbers: range) -> None:
        for number in numbers:
            body = f"Glorpwick notes on [[{TARGET}]], number {number}."
            write(content, f"papers/linker-{number}.md", paper_text(f"linker-{number}", body=body))
        _import(content, "slipped badly")

    def glorpwick_page(hits: int) -> None:
        results = search(ANONYMOUS, SearchRequest(text="glorpwick"))
        assert len(results.hits) == hits
        assert all("Zarquon launch slipped badly" in _words(hit) for hit in results.hits)

    add_linkers(range(FEW_RESULTS))  # As many as stop the search from looking for a better spelling.
    few = _statements_of(lambda: glorpwick_page(FEW_RESULTS))
    add_linkers(range(FEW_RESULTS, 9))
    many = _statements_of(lambda: glorpwick_page(9))
    assert many == few


def test_a_target_made_members_only_after_the_link_was_indexed_no_longer_reads_as_its_title(linked_app, tmp_path):
    """Tightening the target's visibility brings the linking entry's texts back to the link's words."""
    assert "Zarquon launch slipped badly" in _words(_hit(ANONYMOUS, "zarquon", LINKER) or pytest.fail("not found"))
    content = tmp_path / "content"
    write(content, f"lessons/{TARGET}.md", lesson_text(TARGET, "Zarquon launch slipped badly", visibility="members"))
    report = import_directory(content)
    assert report.problems == [], [str(problem) for problem in report.problems]
    db.session.commit()
    hit = _hit(ANONYMOUS, "quorble", LINKER)
    assert hit is not None
    assert "Zarquon" not in _words(hit)
    assert "target-slug showed" in _words(hit)
    assert _hit(ANONYMOUS, "zarquon", LINKER) is None
    assert _hit(ANONYMOUS, "slipped", LINKER) is None
    report = check_search()
    assert report.in_step, report
