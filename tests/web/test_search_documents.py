"""The search page finds words on a page of a document, names the document and page, and links to that page.

Every test runs on each search backend (Whoosh, PostgreSQL full-text search).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb.entries.models import Entry, Paper
from kb.extensions import db
from tests.accounts import Cast, client_for, page_text, post_form
from tests.citation_factory import PANEL_NOTE_SLUG, add_paper_and_lesson, draft_finding
from tests.document_rows import add_document
from tests.factories import entry
from tests.pg_search import SEARCH_BACKENDS, in_context, search_app
from tests.web.dom import Node, main_of

PHRASE = "heronsgate overflow protocol"
PAGES = ["Agenda and apologies.", "Minutes of the last meeting.", f"Members agreed the {PHRASE} for winter.", "AOB."]


def results(client, text: str) -> list[Node]:
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200
    return main_of(response.data).find_all("li", cls="kb-result")


@pytest.fixture(params=SEARCH_BACKENDS)
def seeded_app(request: pytest.FixtureRequest, tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    """The seeded site on each search backend; `client` and `cast` use it."""
    yield from in_context(search_app(request.param, tmp_path, seeded_database, seeded=True))


def papers(visibility: str) -> list[Entry]:
    query = select(Paper).where(Paper.status == "published", Paper.visibility == visibility).order_by(Paper.slug)
    return list(db.session.scalars(query))


def test_a_phrase_on_page_3_is_found_and_links_to_that_page(client, seeded_app):
    paper = papers("public")[0]
    document = add_document(paper, "Winter minutes", PAGES)
    [result] = results(client, f'"{PHRASE}"')
    assert result.one("h2").one("a").attrs["href"] == paper.path
    [page] = result.one("ul", cls="kb-result__pages").find_all("li")
    link = page.one("a")
    assert link.attrs["href"] == f"{paper.path}/documents/{document.id}#page-3"
    assert link.text() == "In Winter minutes, page 3"
    assert [mark.text() for mark in page.find_all("mark")] == PHRASE.split()


def test_pages_of_a_panel_only_paper_are_found_only_by_its_panel(tmp_path: Path, seeded_app, cast: Cast):
    add_paper_and_lesson(tmp_path / "content", cast)
    paper = entry(PANEL_NOTE_SLUG)
    add_document(paper, "Panel's notes", ["Cover.", "The wrenfield escalation was discussed."])
    for outsider in (None, cast.member, cast.other_panel):
        assert results(client_for(seeded_app, outsider), "wrenfield") == []
    for insider in (cast.panel, cast.moderator):
        [result] = results(client_for(seeded_app, insider), "wrenfield")
        assert "page 2" in result.one("ul", cls="kb-result__pages").text()


def test_a_panel_member_finds_a_page_and_cites_it(seeded_app, cast: Cast):
    paper = papers("public")[0]
    document = add_document(paper, "Winter minutes", PAGES)
    draft_finding(cast)
    finding = f"/reviews/{cast.review.slug}/findings/1"
    panel = client_for(seeded_app, cast.panel)
    found = page_text(panel.get(f"{finding}/cite", query_string={"q": PHRASE}))
    assert f'href="{paper.path}/documents/{document.id}#page-3"' in found
    assert 'name="kind" value="page"' in found
    response = post_form(
        panel,
        f"{finding}/citations",
        {"kind": "page", "target": str(document.id), "anchor": "3"},
        page=f"{finding}/cite",
    )
    assert response.status_code == 303
    shown = page_text(panel.get(finding))
    assert f'<a href="{paper.path}/documents/{document.id}#page-3">Page 3 of Winter minutes</a>' in shown
