"""A review exported as content files: the review with its findings, and the entries they cite.

The zip holds Markdown files in the content/ format (docs/content-format.md), one folder
per kind: the review's own file, its findings added to its body as a "Findings" section
whose citations are footnotes with `[[slug]]` links, and the current file of every cited
entry the reader may see. A source the reader may not see is a footnote saying the panel
holds it, without its title, slug or words, so nothing leaks through an export.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select

from kb.content.document import EntryDocument, parse_document, serialise_document
from kb.entries.models import Entry, Review
from kb.entries.service import current_revisions
from kb.entries.vocabulary import KIND_PLURALS
from kb.extensions import db
from kb.panels import queries
from kb.panels.citation_view import HELD_BY_PANEL, ShownCitation, shown_citations
from kb.panels.models import ENTRY_CITATIONS, FINDING_STATUSES, Finding
from kb.paragraphs import CHANGED, GONE, excerpt
from kb.permissions import Viewer, can_view_entry, visible_entries
from kb.states import CitationKind, FindingStatus

QUOTE_LIMIT = 300
"""The longest quote a footnote carries; longer ones are cut at a word with an ellipsis."""


def _quoted(text: str) -> str:
    """Cited words in quotation marks, with their brackets escaped so they never read as links or footnotes."""
    return f"“{excerpt(text, QUOTE_LIMIT).replace('[', chr(92) + '[')}”" if text.strip() else ""


def footnote_text(shown: ShownCitation) -> str:
    """One citation as a footnote's text, on one line: `[[slug]]` links and the words cited."""
    citation = shown.citation
    if not shown.shown:
        return f"{HELD_BY_PANEL}."
    if citation.kind == CitationKind.ENTRY and shown.entry_slug:
        return f"[[{shown.entry_slug}]]."
    if citation.kind == CitationKind.PARAGRAPH and shown.entry_slug:
        state = shown.resolution.state if shown.resolution else GONE
        after = {CHANGED: " (changed since it was cited)", GONE: " (no longer in the paper)"}.get(state, "")
        return f"[[{shown.entry_slug}]], the paragraph {_quoted(citation.quote)}{after}."
    if citation.kind == CitationKind.PAGE and shown.entry_slug:
        return f"[[{shown.entry_slug}]], {shown.title}: {_quoted(citation.quote)}"
    if citation.kind == CitationKind.COMMENT and shown.entry_slug and citation.comment is not None:
        author = citation.comment.author
        by = author.display_name if author is not None else "a former member"
        return f"A comment by {by} on [[{shown.entry_slug}]]: {_quoted(shown.quote)}"
    if citation.kind == CitationKind.RESPONSE:
        return f"{shown.title}."
    return f"{shown.title}. {_quoted(shown.quote)}".strip()


def _finding_section(finding: Finding, notes: Sequence[ShownCitation]) -> tuple[str, list[str]]:
    """A finding as Markdown under a level-three heading, and its footnote definitions."""
    status = "" if finding.status == FindingStatus.PUBLISHED else f" ({FINDING_STATUSES[finding.status].lower()})"
    parts = [f"### Finding {finding.number}: {finding.title}{status}"]
    if finding.body.strip():
        parts.append(finding.body.strip())
    if finding.recommendations.strip():
        parts.append(f"#### Recommendations\n\n{finding.recommendations.strip()}")
    labels = [f"finding-{finding.number}-{index}" for index, _ in enumerate(notes, start=1)]
    if labels:
        parts.append("Evidence: " + " ".join(f"[^{label}]" for label in labels))
    footnotes = [f"[^{label}]: {footnote_text(shown)}" for label, shown in zip(labels, notes, strict=True)]
    return "\n\n".join(parts), footnotes


def findings_markdown(viewer: Viewer, findings: Sequence[Finding]) -> str:
    """The "Findings" section added to a review's body, footnotes last."""
    if not findings:
        return ""
    sections: list[str] = []
    footnotes: list[str] = []
    for finding in findings:
        section, notes = _finding_section(finding, shown_citations(viewer, finding.citations))
        sections.append(section)
        footnotes.extend(notes)
    text = "## Findings\n\n" + "\n\n".join(sections)
    return text + ("\n\n" + "\n".join(footnotes) if footnotes else "")


def _cited_entries(viewer: Viewer, findings: Sequence[Finding]) -> list[Entry]:
    """The entries the findings cite (whole, by a paragraph, or through a comment) that `viewer` may see."""
    found: dict[int, Entry] = {}
    for finding in findings:
        for citation in finding.citations:
            entry = citation.entry if citation.kind in ENTRY_CITATIONS else None
            if citation.kind == CitationKind.COMMENT and citation.comment is not None:
                entry = citation.comment.entry
            if entry is not None and entry.id not in found and can_view_entry(viewer, entry):
                found[entry.id] = entry
    return sorted(found.values(), key=lambda entry: (entry.kind, entry.slug))


def _path(entry: Entry) -> str:
    return f"{KIND_PLURALS[entry.kind]}/{entry.slug}.md"


def _without_hidden_links(viewer: Viewer, document: EntryDocument) -> EntryDocument:
    """`document` without the `review`, `source` and `see_also` slugs of entries `viewer` may not see.

    The entry pages leave such links out; the exported file must not name them either.
    """
    named = [slug for slug in (document.review, document.source, *document.see_also) if slug]
    if not named:
        return document
    visible = set(db.session.scalars(select(Entry.slug).where(Entry.slug.in_(named), visible_entries(viewer))))
    return replace(
        document,
        review=document.review if document.review in visible else None,
        source=document.source if document.source in visible else None,
        see_also=[slug for slug in document.see_also if slug in visible],
    )


def entry_document(viewer: Viewer, entry: Entry, stored: str) -> str:
    """A cited entry's content file as `viewer` may have it: its links to entries they may not see left out."""
    document = parse_document(stored, entry.slug).document
    return stored if document is None else serialise_document(_without_hidden_links(viewer, document))


def review_document(viewer: Viewer, review: Review, findings: Sequence[Finding], stored: str) -> str:
    """The review's content file with its findings added to its body."""
    document = parse_document(stored, review.slug).document
    if document is None:
        document = EntryDocument(kind="review", slug=review.slug, title=review.title, summary=review.summary)
    section = findings_markdown(viewer, findings)
    body = "\n\n".join(part for part in (document.body.strip(), section) if part)
    return serialise_document(replace(_without_hidden_links(viewer, document), body=body))


def export_review(viewer: Viewer, review: Review) -> bytes:
    """The zip of the review's file and the files of the entries it cites, as `viewer` may see them.

    The caller has checked that `viewer` may export the review (`report.may_trace`).
    """
    findings = queries.findings_of(viewer, review)
    cited = [entry for entry in _cited_entries(viewer, findings) if entry.id != review.id]
    revisions = current_revisions([review.id, *(entry.id for entry in cited)])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        stored = revisions[review.id].document if review.id in revisions else ""
        archive.writestr(_path(review), review_document(viewer, review, findings, stored))
        for entry in cited:
            if entry.id in revisions:
                archive.writestr(_path(entry), entry_document(viewer, entry, revisions[entry.id].document))
    return buffer.getvalue()
