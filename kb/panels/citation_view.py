"""Showing a finding's citations as one reader may see them.

A source the reader may not see (or may no longer see) is shown only as
`HELD_BY_PANEL`; a cited paragraph is found again in its paper's current text and shown
as exact, changed or gone (`kb.paragraphs.resolve`); a cited page of a document links to
that page of the version cited, and says when the file has since been replaced or removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kb.consultations.models import Response
from kb.documents.links import document_page_link
from kb.panels.citations import in_order, paragraphs_of
from kb.panels.models import CITATION_KINDS, Citation, Finding
from kb.paragraphs import GONE, Paragraph, Resolution, excerpt, resolve
from kb.permissions import Viewer, can_read_comment, can_read_response, can_view_entry, can_view_finding, on_panel_of
from kb.states import CitationKind, FindingStatus

HELD_BY_PANEL = "Evidence held by the panel"
"""What a reader who may not see a cited source is shown instead of its title or words."""


@dataclass(frozen=True)
class ShownCitation:
    """One citation as a given reader sees it: its source, or that the panel holds it.

    `shown` is false when the reader may not see the source: then `title` is
    `HELD_BY_PANEL` and nothing else about the source (no link, no words) is given.
    """

    citation: Citation
    number: int
    kind_label: str
    shown: bool
    title: str
    link: str | None = None
    context: str = ""
    """Where a comment or paragraph sits (its entry's title), or the consultation of a response."""
    quote: str = ""
    resolution: Resolution | None = None
    entry_slug: str | None = None


def response_path(response: Response) -> str:
    """The address of one consultation response (the analysis pages' endpoint)."""
    return f"/consultations/{response.consultation_id}/responses/{response.id}"


def _held(citation: Citation, number: int) -> ShownCitation:
    return ShownCitation(citation, number, CITATION_KINDS.get(citation.kind, ""), False, HELD_BY_PANEL)


def _shown_entry(
    viewer: Viewer, citation: Citation, number: int, paragraphs: Mapping[int, list[Paragraph]]
) -> ShownCitation:
    entry = citation.entry
    kind_label = CITATION_KINDS[citation.kind]
    if entry is None:
        return ShownCitation(citation, number, kind_label, True, "A source no longer in kb", quote=citation.quote)
    if not can_view_entry(viewer, entry):
        return _held(citation, number)
    if citation.kind == CitationKind.ENTRY:
        return ShownCitation(citation, number, kind_label, True, entry.title, entry.path, entry_slug=entry.slug)
    resolution = resolve(citation.paragraph_anchor or "", citation.quote, paragraphs.get(entry.id, []))
    link = entry.path if resolution.current is None else f"{entry.path}#{resolution.current.anchor}"
    return ShownCitation(
        citation,
        number,
        kind_label,
        True,
        f"Paragraph of {entry.title}",
        link,
        context=entry.title,
        quote=citation.quote,
        resolution=resolution,
        entry_slug=entry.slug,
    )


def _shown_page(viewer: Viewer, citation: Citation, number: int) -> ShownCitation:
    entry, document = citation.entry, citation.document
    kind_label = CITATION_KINDS[citation.kind]
    if entry is None or document is None:
        return ShownCitation(citation, number, kind_label, True, "A document no longer in kb", quote=citation.quote)
    if not can_view_entry(viewer, entry):
        return _held(citation, number)
    page = citation.page_number or 1
    context = entry.title if document.is_current else f"{entry.title} (the file has since been replaced or removed)"
    return ShownCitation(
        citation,
        number,
        kind_label,
        True,
        f"Page {page} of {document.title}",
        document_page_link(entry.path, document.id, page),
        context=context,
        quote=citation.quote,
        entry_slug=entry.slug,
    )


def _shown_comment(viewer: Viewer, citation: Citation, number: int) -> ShownCitation:
    comment = citation.comment
    kind_label = CITATION_KINDS["comment"]
    if comment is None:
        return ShownCitation(citation, number, kind_label, True, "A comment no longer in kb")
    if not can_view_entry(viewer, comment.entry) or not can_read_comment(viewer, comment):
        return _held(citation, number)
    # The words as they stand now: a comment's earlier versions are for moderators only.
    author = comment.author.display_name if comment.author is not None else "a former member"
    return ShownCitation(
        citation,
        number,
        kind_label,
        True,
        f"Comment by {author} on {comment.entry.title}",
        comment.permalink,
        context=comment.entry.title,
        quote=comment.body,
        entry_slug=comment.entry.slug,
    )


def _shown_response(viewer: Viewer, citation: Citation, number: int) -> ShownCitation:
    response = citation.response
    kind_label = CITATION_KINDS["response"]
    if response is None:
        return ShownCitation(citation, number, kind_label, True, "A response no longer in kb")
    if not can_read_response(viewer, response):
        return _held(citation, number)
    consultation = response.consultation
    who = response.organisation_name or "a member"
    return ShownCitation(
        citation,
        number,
        kind_label,
        True,
        f"Response from {who} to {consultation.title}",
        response_path(response),
        context=consultation.title,
    )


def cited_paragraphs(citations: Sequence[Citation]) -> dict[int, list[Paragraph]]:
    """The current paragraphs of every paper these citations cite a paragraph of, by paper (one query at most)."""
    papers = {c.entry.id: c.entry for c in citations if c.kind == CitationKind.PARAGRAPH and c.entry is not None}
    return paragraphs_of(list(papers.values())) if papers else {}


def shown_citations(
    viewer: Viewer,
    citations: Sequence[Citation],
    *,
    first_number: int = 1,
    paragraphs: Mapping[int, list[Paragraph]] | None = None,
) -> list[ShownCitation]:
    """Citations in order as `viewer` sees them, numbered from `first_number`.

    A source the viewer may not see (or may no longer see) is shown only as `HELD_BY_PANEL`.
    `paragraphs` (`cited_paragraphs` of these citations or more) saves looking the papers up
    again when many findings are shown together.
    """
    ordered = in_order(citations)
    if paragraphs is None:
        paragraphs = cited_paragraphs(ordered)
    shown: list[ShownCitation] = []
    for number, citation in enumerate(ordered, start=first_number):
        if citation.kind in (CitationKind.ENTRY, CitationKind.PARAGRAPH):
            shown.append(_shown_entry(viewer, citation, number, paragraphs))
        elif citation.kind == CitationKind.PAGE:
            shown.append(_shown_page(viewer, citation, number))
        elif citation.kind == CitationKind.COMMENT:
            shown.append(_shown_comment(viewer, citation, number))
        elif citation.kind == CitationKind.RESPONSE:
            shown.append(_shown_response(viewer, citation, number))
    return shown


@dataclass(frozen=True)
class CitationPanel:
    """What the finding page's citations section shows: the list, and whether the viewer may change it."""

    citations: list[ShownCitation]
    editable: bool


def citation_panel(viewer: Viewer, finding: Finding) -> CitationPanel:
    """The citations section of a finding's page; empty for a viewer who may not read the finding."""
    if not can_view_finding(viewer, finding):
        return CitationPanel([], False)
    editable = finding.status != FindingStatus.PUBLISHED and on_panel_of(viewer, finding.review)
    return CitationPanel(shown_citations(viewer, finding.citations), editable)


def is_gone(shown: ShownCitation) -> bool:
    """Whether a cited paragraph is no longer in its paper."""
    return shown.resolution is not None and shown.resolution.state == GONE


def quote_excerpt(shown: ShownCitation, limit: int = 240) -> str:
    """The first words of what was cited, for lists."""
    return excerpt(shown.quote, limit) if shown.quote else ""
