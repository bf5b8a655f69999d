"""A review's report: who may read it (page, PDF and Word), what it holds, and DRAFT until published.

The PDF is read back with pypdf and the Word file with python-docx, so what a reader
takes away is checked, not only the page.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from flask import Flask
from pypdf import PdfReader

from kb.extensions import db
from kb.panels.citations import add_citation, paper_paragraphs
from kb.panels.models import Finding, FindingCorrection
from kb.panels.report_document import report_filename
from kb.panels.service import FindingText, create_finding
from kb.states import Visibility
from tests.accounts import Cast, client_for, page_text
from tests.citation_factory import CITED, PANEL_NOTE_SLUG, add_paper_and_lesson, draft_finding, publish
from tests.factories import entry

LONG_TEXT = "\n\n".join(
    f"Paragraph {number} of the panel's account of what happened at launch, and why it matters for the next "
    "programme: the dates were fixed before the services were ready, and the people who could have said so "
    "were not asked." * 2
    for number in range(1, 9)
)
CORRECTION = "The launch date was 19 March, not 18 March."


def _report(cast: Cast, tail: str = "") -> str:
    return f"/reviews/{cast.review.slug}/report{tail}"


def _findings(tmp_path: Path, cast: Cast) -> list[Finding]:
    """Two findings of the cast's review: the first cites a lesson, the panel-only note and a paragraph."""
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    first = draft_finding(cast)
    add_citation(first, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(first, actor=cast.panel, kind="entry", entry=entry(PANEL_NOTE_SLUG))
    anchor = next(p.anchor for p in paper_paragraphs(paper) if p.text == CITED)
    add_citation(first, actor=cast.panel, kind="paragraph", entry=paper, anchor=anchor)
    second = create_finding(
        cast.review,
        FindingText("Go-live came before readiness", LONG_TEXT, "- Test readiness first.\n- Publish the test."),
        actor=cast.panel,
    )
    add_citation(second, actor=cast.panel, kind="entry", entry=lesson)
    db.session.commit()
    return [first, second]


def _correct(finding: Finding, cast: Cast) -> None:
    db.session.add(
        FindingCorrection(
            finding_id=finding.id,
            revision_number=finding.revision_number,
            note=CORRECTION,
            note_html=f"<p>{CORRECTION}</p>",
            author_id=cast.panel.id,
            corrected_at=dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC),
        )
    )
    db.session.commit()


def _pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _outline_titles(data: bytes) -> list[str]:
    titles: list[str] = []

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(PdfReader(io.BytesIO(data)).outline)
    return titles


def test_the_panel_and_staff_read_a_draft_marked_draft_and_nobody_else_does(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    _findings(tmp_path, cast)
    for insider in (cast.panel, cast.moderator, cast.admin):
        client = client_for(seeded_app, insider)
        page = client.get(_report(cast))
        assert page.status_code == 200
        shown = page_text(page)
        assert "<title>Draft report:" in shown
        assert "<strong>DRAFT</strong>: not published." in shown
        assert "Status: Draft" in shown
        assert client.get(_report(cast, ".pdf")).status_code == 200
        assert client.get(_report(cast, ".docx")).status_code == 200
    for outsider in (None, cast.member, cast.other_panel, cast.author):
        client = client_for(seeded_app, outsider)
        for tail in ("", ".pdf", ".docx"):
            assert client.get(_report(cast, tail)).status_code == 404


def test_the_report_page_holds_the_review_panel_dates_findings_notes_and_evidence(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    first, second = _findings(tmp_path, cast)
    publish(cast, first, second)
    _correct(first, cast)
    for reader in (None, cast.member):
        shown = page_text(client_for(seeded_app, reader).get(_report(cast)))
        assert "DRAFT" not in shown
        assert f"Report of the review</span> {cast.review.title}" in shown
        assert f'<dd class="nhsuk-summary-list__value">{cast.review.commissioning_body}</dd>' in shown
        assert cast.review.summary in shown
        assert '<h2 id="terms-of-reference">Terms of reference</h2>' in shown
        assert "<li>Panel, Test out-of-hours provider</li>" in shown
        for label in ("Commissioned", "Findings agreed", "Published", "Last corrected"):
            assert f'<dt class="nhsuk-summary-list__key">{label}</dt>' in shown
        assert '<dd class="nhsuk-summary-list__value">4 March 2026</dd>' in shown
        assert shown.index("Finding 1: Scripts did not know the area") < shown.index(
            "Finding 2: Go-live came before readiness"
        )
        assert "<li>Test readiness first.</li>" in shown
        assert f'<strong>Corrected on 4 March 2026:</strong> <div class="kb-prose"><p>{CORRECTION}</p>' in shown
        # Each finding's notes count from 1; a source the reader may not see is held by the panel.
        assert '<li id="finding-1-note-1">' in shown
        assert '<li id="finding-1-note-2">\n    Evidence held by the panel.' in shown
        assert '<li id="finding-2-note-1">' in shown
        assert f"“{CITED}”" in shown
        assert "Panel note on the scripts" not in shown
        evidence = shown[shown.index('id="evidence"') :]
        assert evidence.count('href="/lessons/scripts-need-local-knowledge"') == 1
        assert 'href="/papers/panel-evidence-on-call-handling"' in evidence
        assert "1 source held by the panel" in evidence
    panel = page_text(client_for(seeded_app, cast.panel).get(_report(cast)))
    assert "Panel note on the scripts" in panel
    assert "DRAFT" not in panel


def test_a_published_report_follows_the_review_visibility_on_every_address(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    first, second = _findings(tmp_path, cast)
    publish(cast, first, second)
    assert client_for(seeded_app).get(_report(cast, ".pdf")).status_code == 200
    cast.review.visibility = Visibility.MEMBERS
    db.session.commit()
    for tail in ("", ".pdf", ".docx"):
        assert client_for(seeded_app).get(_report(cast, tail)).status_code == 404
        assert client_for(seeded_app, cast.member).get(_report(cast, tail)).status_code == 200
    cast.review.visibility = Visibility.PANEL
    db.session.commit()
    for tail in ("", ".pdf", ".docx"):
        for outsider in (None, cast.member, cast.other_panel):
            assert client_for(seeded_app, outsider).get(_report(cast, tail)).status_code == 404
        assert client_for(seeded_app, cast.panel).get(_report(cast, tail)).status_code == 200
    for tail in ("", ".pdf", ".docx"):
        assert client_for(seeded_app, cast.panel).get(f"/reviews/no-such-review/report{tail}").status_code == 404


def test_the_draft_pdf_has_headings_recommendations_notes_and_draft_on_every_page(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    _findings(tmp_path, cast)
    response = client_for(seeded_app, cast.panel).get(_report(cast, ".pdf"))
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{cast.review.slug}-report.pdf"'
    pages = _pdf_pages(response.data)
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert "DRAFT: not published" in text
        assert f"Page {number} of {len(pages)}" in text
    whole = "\n".join(pages)
    assert "Keep directories current." in whole
    assert "Test readiness first." in whole
    assert "Scripts need local knowledge" in whole
    assert "Panel note on the scripts" in whole
    titles = _outline_titles(response.data)
    assert "Finding 1: Scripts did not know the area" in titles
    assert "Finding 2: Go-live came before readiness" in titles
    assert titles.count("Recommendations") == 2
    assert "Notes" in titles
    assert "Evidence" in titles


def test_the_published_pdf_holds_the_correction_and_no_draft_mark(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    first, second = _findings(tmp_path, cast)
    publish(cast, first, second)
    _correct(first, cast)
    pages = _pdf_pages(client_for(seeded_app).get(_report(cast, ".pdf")).data)
    whole = "\n".join(pages)
    assert "DRAFT" not in whole
    assert "Corrected on 4 March 2026:" in whole
    assert CORRECTION in whole
    assert "Evidence held by the panel" in whole
    assert "Panel note on the scripts" not in whole


def test_the_word_document_has_heading_styles_numbered_notes_and_draft_in_the_header(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    _findings(tmp_path, cast)
    response = client_for(seeded_app, cast.panel).get(_report(cast, ".docx"))
    assert response.headers["Content-Disposition"] == f'attachment; filename="{cast.review.slug}-report.docx"'
    document = docx.Document(io.BytesIO(response.data))
    assert document.sections[0].header.paragraphs[0].text == "DRAFT: not published"
    styled = [(paragraph.style.name, paragraph.text) for paragraph in document.paragraphs]
    assert ("Heading 1", f"Report of the review: {cast.review.title}") in styled
    assert ("Heading 2", "Finding 1: Scripts did not know the area") in styled
    assert ("Heading 3", "Recommendations") in styled
    assert ("List Bullet", "Test readiness first.") in styled
    notes = [text for style, text in styled if style == "List Number"]
    assert notes[0].startswith("Scripts need local knowledge (lesson or paper). (http://localhost/lessons/")
    assert notes[1].startswith("Panel note on the scripts")
    assert f"“{CITED}”" in notes[2]
    # Each finding's notes are their own numbered list, counting from 1.
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    num_ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert num_ids[0] == num_ids[1] == num_ids[2] != num_ids[3]


def test_a_published_word_document_has_no_draft_header_and_holds_the_correction(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    first, second = _findings(tmp_path, cast)
    publish(cast, first, second)
    _correct(first, cast)
    document = docx.Document(io.BytesIO(client_for(seeded_app).get(_report(cast, ".docx")).data))
    assert "DRAFT" not in document.sections[0].header.paragraphs[0].text
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert f"Corrected on 4 March 2026: {CORRECTION}" in texts
    assert not any("Panel note on the scripts" in text for text in texts)


@pytest.mark.parametrize(
    ("slug", "name"),
    [("nhs-111-review", "nhs-111-review-report.pdf"), ('a"b\r\nc', "a-b-c-report.pdf"), ("", "review-report.pdf")],
)
def test_download_names_are_safe(slug: str, name: str) -> None:
    assert report_filename(slug, "pdf") == name


def test_markup_in_a_title_is_printed_as_text_in_the_pdf_and_word_files(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    title = 'Scripts <i data-x="esc"> & "quotes"'
    create_finding(cast.review, FindingText(title, "Text.", ""), actor=cast.panel)
    db.session.commit()
    panel = client_for(seeded_app, cast.panel)
    assert title in "\n".join(_pdf_pages(panel.get(_report(cast, ".pdf")).data))
    document = docx.Document(io.BytesIO(panel.get(_report(cast, ".docx")).data))
    assert f"Finding 1: {title}" in [paragraph.text for paragraph in document.paragraphs]
