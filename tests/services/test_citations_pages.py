"""Findings citing a page of a document: who may cite which page, how it is shown, cited-by, matrix and export."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from kb.extensions import db
from kb.panels.citation_view import HELD_BY_PANEL, shown_citations
from kb.panels.citations import CitationError, add_citation, citable_documents, cited_pages
from kb.panels.cited_by import findings_citing
from kb.panels.export import export_review
from kb.panels.report import build_matrix
from kb.permissions import PermissionDeniedError, viewer_for
from kb.states import CitationKind
from tests.accounts import Cast
from tests.citation_factory import PANEL_NOTE_SLUG, add_paper_and_lesson, draft_finding, publish
from tests.document_rows import add_document, remove_document, replace_document
from tests.factories import entry

PAGES = ["Cover page.", "Contents.", "The panel found the directory of services was months out of date.", "Annex."]


def test_a_page_is_cited_with_its_words_and_shown_linking_to_that_page(tmp_path: Path, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    document = add_document(paper, "Minutes of March", PAGES)
    finding = draft_finding(cast)
    citation = add_citation(finding, actor=cast.panel, kind="page", document=document, page=3)
    db.session.commit()
    assert (citation.kind, citation.entry_id, citation.document_id, citation.page_number) == (
        CitationKind.PAGE,
        paper.id,
        document.id,
        3,
    )
    assert citation.quote == PAGES[2]
    assert cited_pages(finding) == {(document.id, 3)}
    [shown] = shown_citations(viewer_for(cast.member), finding.citations)
    assert shown.shown
    assert shown.kind_label == "Page of a document"
    assert shown.title == "Page 3 of Minutes of March"
    assert shown.link == f"{paper.path}/documents/{document.id}#page-3"
    assert (shown.context, shown.quote, shown.entry_slug) == (paper.title, PAGES[2], paper.slug)


def test_bad_page_citations_are_refused_with_a_reason(tmp_path: Path, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    document = add_document(paper, "Minutes of March", PAGES)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="page", document=document, page=3)
    with pytest.raises(CitationError, match="already cites"):
        add_citation(finding, actor=cast.panel, kind="page", document=document, page=3)
    with pytest.raises(CitationError, match="has no page 9"):
        add_citation(finding, actor=cast.panel, kind="page", document=document, page=9)
    with pytest.raises(CitationError, match="Choose a page of Minutes of March"):
        add_citation(finding, actor=cast.panel, kind="page", document=document, page=None)
    with pytest.raises(PermissionDeniedError):
        add_citation(finding, actor=cast.panel, kind="page", document=None, page=1)
    assert add_citation(finding, actor=cast.panel, kind="page", document=document, page=4).position == 1


def test_a_replaced_or_removed_file_is_not_cited_afresh(tmp_path: Path, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    old = add_document(paper, "Minutes of March", PAGES)
    gone = add_document(paper, "Old annex", ["Annex text."])
    new = replace_document(old, "Minutes of March, corrected", PAGES)
    remove_document(gone)
    finding = draft_finding(cast)
    for document in (old, gone):
        with pytest.raises(CitationError, match="replaced or removed"):
            add_citation(finding, actor=cast.panel, kind="page", document=document, page=1)
    assert [listed.id for listed, _ in citable_documents(paper)] == [new.id]


def test_only_pages_of_entries_the_citer_may_see_are_cited(tmp_path: Path, cast: Cast) -> None:
    add_paper_and_lesson(tmp_path, cast)
    other_panels_paper = entry("lessons-review-panel-evidence-to-gather")
    hidden = add_document(other_panels_paper, "Their working notes", ["Notes."])
    finding = draft_finding(cast)
    with pytest.raises(PermissionDeniedError):
        add_citation(finding, actor=cast.panel, kind="page", document=hidden, page=1)
    for outsider in (cast.member, cast.other_panel):
        with pytest.raises(PermissionDeniedError):
            add_citation(finding, actor=outsider, kind="page", document=hidden, page=1)


def test_readers_who_may_not_see_the_entry_see_the_page_as_held_by_the_panel(tmp_path: Path, cast: Cast) -> None:
    add_paper_and_lesson(tmp_path, cast)
    note = add_document(entry(PANEL_NOTE_SLUG), "Panel's scan", ["Only for the panel: larkspur."])
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="page", document=note, page=1)
    db.session.commit()
    [held] = shown_citations(viewer_for(cast.member), finding.citations)
    assert (held.shown, held.title, held.link, held.quote) == (False, HELD_BY_PANEL, None, "")
    [seen] = shown_citations(viewer_for(cast.panel), finding.citations)
    assert seen.title == "Page 1 of Panel's scan"


def test_a_citation_of_a_replaced_file_keeps_its_page_and_says_so(tmp_path: Path, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    old = add_document(paper, "Minutes of March", PAGES)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="page", document=old, page=3)
    db.session.commit()
    replace_document(old, "Minutes of March, corrected", ["Rewritten."])
    db.session.expire_all()
    [shown] = shown_citations(viewer_for(cast.panel), finding.citations)
    assert shown.link == f"{paper.path}/documents/{old.id}#page-3"
    assert shown.quote == PAGES[2]
    assert "replaced or removed" in shown.context


def test_cited_by_the_matrix_and_the_export_count_page_citations(tmp_path: Path, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    document = add_document(paper, "Minutes of March", PAGES)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="page", document=document, page=3)
    db.session.commit()
    cited = findings_citing(viewer_for(cast.panel), entry_ids=[paper.id])
    assert [citing.finding_id for citing in cited.entries[paper.id]] == [finding.id]
    matrix = build_matrix(viewer_for(cast.panel), cast.review)
    [(_, [row])] = matrix.groups
    assert (row.title, row.link) == (paper.title, paper.path)
    assert row.cell(finding.id).text == "Cited: 1 document page"
    publish(cast, finding)
    exported = zipfile.ZipFile(io.BytesIO(export_review(viewer_for(cast.member), cast.review)))
    review_file = exported.read(f"reviews/{cast.review.slug}.md").decode()
    assert f"[[{paper.slug}]], Page 3 of Minutes of March: “{PAGES[2]}”" in review_file
