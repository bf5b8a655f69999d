"""A report's PDF and Word files: a limit per address on making them, and a published PDF drawn once and kept.

WeasyPrint is replaced by a counter here (`render_pdf`), so the tests see how often a PDF
is drawn; `tests/web/test_report.py` reads real PDFs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from kb.extensions import db
from kb.panels import report_pdf
from kb.panels.citations import add_citation
from kb.panels.corrections import correct_finding
from kb.panels.models import Finding
from kb.panels.service import FindingText
from kb.states import Visibility
from tests.accounts import Cast, client_for, make_cast, page_text
from tests.citation_factory import PANEL_NOTE_SLUG, add_paper_and_lesson, draft_finding, publish
from tests.conftest import make_app
from tests.factories import entry


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The print pages drawn as PDFs, in order; each PDF is a few bytes naming its page's length."""
    pages: list[str] = []

    def draw(html: str, *, site_root: str, static_dir: Path) -> bytes:
        pages.append(html)
        return f"%PDF-1.7 drawing {len(pages)}".encode()

    monkeypatch.setattr(report_pdf, "render_pdf", draw)
    return pages


def _published(folder: Path, cast: Cast) -> Finding:
    """A published finding citing a public lesson and a panel-only note; committed."""
    _paper, lesson = add_paper_and_lesson(folder, cast)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(finding, actor=cast.panel, kind="entry", entry=entry(PANEL_NOTE_SLUG))
    db.session.commit()
    publish(cast, finding)
    return finding


def _pdf(cast: Cast) -> str:
    return f"/reviews/{cast.review.slug}/report.pdf"


def test_a_published_pdf_is_drawn_once_until_something_printed_changes(
    tmp_path: Path, seeded_app: Flask, cast: Cast, drawn: list[str]
) -> None:
    finding = _published(tmp_path, cast)
    first = client_for(seeded_app).get(_pdf(cast))
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, no-store"
    again = client_for(seeded_app).get(_pdf(cast))
    assert again.data == first.data
    # A member sees the same sources as a visitor, so the same copy.
    assert client_for(seeded_app, cast.member).get(_pdf(cast)).data == first.data
    assert len(drawn) == 1
    # The panel may see the panel-only note it cites: a copy of its own, never given to others.
    panel = client_for(seeded_app, cast.panel).get(_pdf(cast))
    assert panel.data != first.data
    assert len(drawn) == 2
    assert "Panel note on the scripts" in drawn[1]
    assert "Panel note on the scripts" not in drawn[0]
    assert client_for(seeded_app).get(_pdf(cast)).data == first.data
    assert len(drawn) == 2
    # A correction changes what is printed, so the PDF is drawn again.
    corrected = FindingText(finding.title, finding.body + " Corrected.", finding.recommendations)
    correct_finding(finding, corrected, "A word was missing.", actor=cast.panel, base_number=finding.revision_number)
    db.session.commit()
    changed = client_for(seeded_app).get(_pdf(cast))
    assert len(drawn) == 3
    assert changed.data != first.data
    assert "A word was missing." in drawn[2]


def test_a_source_made_public_changes_the_copy_a_visitor_gets(
    tmp_path: Path, seeded_app: Flask, cast: Cast, drawn: list[str]
) -> None:
    _published(tmp_path, cast)
    client_for(seeded_app).get(_pdf(cast))
    note = entry(PANEL_NOTE_SLUG)
    note.visibility = Visibility.PUBLIC
    db.session.commit()
    client_for(seeded_app).get(_pdf(cast))
    assert len(drawn) == 2
    assert "Panel note on the scripts" in drawn[1]


def test_a_draft_pdf_is_drawn_for_every_request(
    tmp_path: Path, seeded_app: Flask, cast: Cast, drawn: list[str]
) -> None:
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    assert [panel.get(_pdf(cast)).status_code for _ in range(2)] == [200, 200]
    assert len(drawn) == 2


def test_too_many_downloads_from_one_address_are_refused_for_a_while(
    tmp_path: Path, seeded_database: Path, drawn: list[str]
) -> None:
    app = make_app(tmp_path / "limited", seeded_database, REPORT_DOWNLOAD_LIMIT_PER_ADDRESS="3 per minute")
    with app.app_context():
        cast = make_cast()
        _published(tmp_path, cast)
        visitor = client_for(app)
        base = f"/reviews/{cast.review.slug}/report"
        # The PDF and the Word file share one allowance.
        assert [visitor.get(base + tail).status_code for tail in (".pdf", ".docx", ".pdf")] == [200, 200, 200]
        for tail in (".pdf", ".docx"):
            refused = visitor.get(base + tail)
            assert refused.status_code == 429
            assert "Retry-After" in refused.headers
            shown = page_text(refused)
            assert "<h1>Too many downloads</h1>" in shown
            assert "Wait a minute, then download it again." in shown
            assert f'href="{base}"' in shown
        # The report page stays open, and another address has its own allowance.
        assert visitor.get(base).status_code == 200
        elsewhere = client_for(app)
        elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
        assert elsewhere.get(base + ".pdf").status_code == 200
        db.session.remove()
