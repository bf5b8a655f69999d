"""The report as a Word document, written with python-docx in Word's own styles.

The title is Heading 1, each part and finding Heading 2, a finding's recommendations,
corrections and notes Heading 3; a finding's text comes from its stored HTML
(`kb.panels.docx_html`); its notes are a numbered list counting from 1. A draft says
DRAFT in the header of every page; every page has its number in the footer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urljoin

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from kb.panels.citation_view import ShownCitation
from kb.panels.docx_html import Styles, continue_numbering, plain_text, restart_numbering, write_html
from kb.panels.report_document import DRAFT_MARK, Report, ReportFinding, london_day
from kb.paragraphs import CHANGED, GONE, excerpt
from kb.states import CitationKind


@dataclass(frozen=True)
class _Out:
    """The document being written, its styles, and the site's address for links."""

    document: DocxDocument
    styles: Styles
    site_root: str

    def heading(self, text: str, level: int) -> None:
        self.styles.paragraph(text, f"Heading {level}")

    def paragraph(self, text: str = "", style: str | None = None) -> Paragraph:
        return self.styles.paragraph(text, style)

    def html(self, html: str, heading_level: int = 4) -> None:
        write_html(self.document, html, site_root=self.site_root, heading_level=heading_level, styles=self.styles)


def _fact(out: _Out, label: str, value: str) -> None:
    paragraph = out.paragraph()
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(value)


def _page_header_and_footer(document: DocxDocument, *, draft: bool) -> None:
    """DRAFT in the header of every page of a draft; "Page N" in every footer."""
    section = document.sections[0]
    if draft:
        header = section.header.paragraphs[0]
        run = header.add_run(DRAFT_MARK)
        run.bold = True
        run.font.size = Pt(12)
        run.font.color.rgb = RGBColor(0xD5, 0x28, 0x1B)
    footer = section.footer.paragraphs[0]
    footer.add_run("Page ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    footer._p.append(field)


def note_text(note: ShownCitation, site_root: str) -> str:
    """A note as one line of text: its source, kind, the words cited, and the source's address."""
    parts = [note.title + (f" ({note.kind_label.lower()})" if note.shown and note.kind_label else "") + "."]
    state = note.resolution.state if note.resolution is not None else ""
    if note.shown and note.quote and state == CHANGED:
        parts.append(f"The paragraph has changed since it was cited; it said: “{excerpt(note.quote, 300)}”")
    elif note.shown and note.quote and state == GONE:
        parts.append(f"The paragraph is no longer in the paper; it said: “{excerpt(note.quote, 300)}”")
    elif note.shown and note.citation.kind == CitationKind.PARAGRAPH:
        parts.append(f"“{excerpt(note.quote, 300)}”")
    elif note.shown and note.citation.kind == CitationKind.PAGE:
        parts.append(f"In {note.context}: “{excerpt(note.quote, 300)}”")
    if note.link:
        parts.append(f"({urljoin(site_root, note.link)})")
    return " ".join(parts)


def _notes(out: _Out, item: ReportFinding) -> None:
    """The finding's notes as a numbered list counting from 1."""
    out.heading("Notes", 3)
    num_id: int | None = None
    for note in item.notes:
        paragraph = out.paragraph(note_text(note, out.site_root), "List Number")
        if num_id is None:
            num_id = restart_numbering(out.document, paragraph)
        else:
            continue_numbering(paragraph, num_id)


def _finding(out: _Out, item: ReportFinding, *, draft: bool) -> None:
    finding = item.finding
    out.heading(f"Finding {finding.number}: {finding.title}", 2)
    if draft:
        _fact(out, "Status", item.status_label)
    out.html(finding.body_html)
    if finding.recommendations:
        out.heading("Recommendations", 3)
        out.html(finding.recommendations_html)
    if finding.corrections:
        out.heading("Corrections", 3)
        for correction in finding.corrections:
            paragraph = out.paragraph(style="List Bullet")
            paragraph.add_run(f"Corrected on {london_day(correction.corrected_at)}: ").bold = True
            paragraph.add_run(plain_text(correction.note_html) or correction.note)
    if item.notes:
        _notes(out, item)


def render_docx(report: Report, *, site_root: str) -> bytes:
    """The report as the bytes of a .docx file; relative links are written against `site_root`."""
    review = report.review
    document = Document()
    out = _Out(document, Styles(document), site_root)
    document.core_properties.title = report.title
    document.core_properties.author = review.commissioning_body or ""
    _page_header_and_footer(document, draft=report.draft)
    out.heading(report.title, 1)
    if report.draft:
        _fact(out, "DRAFT", "not published. Only the review's panel and staff can read this report.")
    if review.commissioning_body:
        _fact(out, "Commissioned by", review.commissioning_body)
    for date in report.dates:
        _fact(out, date.label, date.day)
    if review.summary:
        out.heading("Summary", 2)
        out.paragraph(review.summary)
    if report.terms_of_reference:
        out.heading("Terms of reference", 2)
        out.html(str(report.terms_of_reference), heading_level=3)
    out.heading("The panel", 2)
    for person in report.panel:
        out.paragraph(
            person.display_name + (f", {person.organisation_name}" if person.organisation_name else ""), "List Bullet"
        )
    if not report.panel:
        out.paragraph("No panel members are recorded in kb.")
    for item in report.findings:
        _finding(out, item, draft=report.draft)
    out.heading("Evidence", 2)
    for source in report.evidence:
        where = f" in {source.context}" if source.context else ""
        address = f" {urljoin(site_root, source.link)}" if source.link else ""
        out.paragraph(f"{source.title} ({source.kind.lower()}{where}).{address}", "List Bullet")
    if report.held_by_panel:
        count = report.held_by_panel
        out.paragraph(f"{count} {'source' if count == 1 else 'sources'} held by the panel", "List Bullet")
    if not report.evidence and not report.held_by_panel:
        out.paragraph("The findings cite no sources.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
