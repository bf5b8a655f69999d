"""Citing a page of a document from a finding: the picker lists the pages, the finding links to the page."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from kb.extensions import db
from kb.panels.models import Citation
from kb.states import CitationKind
from tests.accounts import Cast, client_for, page_text, post_form
from tests.citation_factory import add_paper_and_lesson, draft_finding
from tests.document_rows import add_document
from tests.factories import entry

PAGES = ["Cover page.", "Contents.", "Handlers had no local directory of services.", ""]


def _finding_url(cast: Cast, tail: str = "") -> str:
    return f"/reviews/{cast.review.slug}/findings/1{tail}"


def _cite(client: FlaskClient, cast: Cast, **fields: str):
    return post_form(client, _finding_url(cast, "/citations"), fields, page=_finding_url(cast, "/cite"))


def test_a_page_is_cited_from_the_picker_and_the_finding_links_to_it(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    document = add_document(paper, "Minutes of March", PAGES)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    picker = page_text(panel.get(_finding_url(cast, f"/cite/{paper.slug}")))
    assert "A page of a document" in picker
    assert f'href="{paper.path}/documents/{document.id}#page-3"' in picker
    assert picker.count('name="kind" value="page"') == 3  # The blank fourth page has nothing to cite.
    response = _cite(panel, cast, kind="page", target=str(document.id), anchor="3")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_finding_url(cast) + "#citations")
    finding_page = page_text(panel.get(_finding_url(cast)))
    assert f'<a href="{paper.path}/documents/{document.id}#page-3">Page 3 of Minutes of March</a>' in finding_page
    assert f", in {paper.title}" in finding_page
    assert "Handlers had no local directory of services." in finding_page
    again = page_text(panel.get(_finding_url(cast, f"/cite/{paper.slug}")))
    assert again.count('name="kind" value="page"') == 2
    assert "Already cited" in again


def test_bad_page_citations_come_back_with_a_message_or_404(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    document = add_document(paper, "Minutes of March", PAGES)
    hidden = add_document(entry("lessons-review-panel-evidence-to-gather"), "Their notes", ["Notes."])
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    for anchor, message in (
        ("9", "Minutes of March has no page 9 with text to cite."),
        ("4", "Minutes of March has no page 4 with text to cite."),
        ("x", "Choose a page of Minutes of March to cite."),
        ("", "Choose a page of Minutes of March to cite."),
    ):
        response = _cite(panel, cast, kind="page", target=str(document.id), anchor=anchor)
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/cite")
        assert message in page_text(panel.get(_finding_url(cast, "/cite")))
    assert _cite(panel, cast, kind="page", target=str(hidden.id), anchor="1").status_code == 404
    assert (
        _cite(client_for(seeded_app, cast.member), cast, kind="page", target=str(document.id), anchor="3").status_code
        == 404
    )
    assert db.session.query(Citation).filter(Citation.kind == CitationKind.PAGE).count() == 0
