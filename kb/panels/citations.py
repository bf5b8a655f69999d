"""Citing evidence from a finding: add, remove and reorder citations (`kb.panels.citation_view` shows them).

The verbs take `actor=`, check `review.work` on the finding's review and that the actor
may see what they cite, change the citations, audit and flush; the caller commits.
A citation of a paragraph keeps the paragraph's anchor and its words (`quote`), so it can
be found again, or shown as changed or gone, after the paper is edited
(`kb.paragraphs.resolve`). A citation of a page of a document keeps the document version,
the page number and the page's words. Adding or removing a citation changes which note
markers (`[^N]`) of the finding's text are linked, so its texts are rendered again; moving or
removing one changes the numbers of others, so the markers are first rewritten to follow
their citations, saved as a new revision of the finding (`kb.panels.service.renumber_notes`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kb.audit.service import record_event
from kb.comments.models import Comment
from kb.consultations.models import Consultation, Response
from kb.documents.models import Document, DocumentPage
from kb.entries.models import Entry, Review
from kb.entries.service import current_revisions
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.panels import telling
from kb.panels.models import Citation, Finding
from kb.panels.rendering import rerender_notes
from kb.panels.service import renumber_notes, reopen_agreement
from kb.paragraphs import Paragraph
from kb.permissions import (
    PermissionDeniedError,
    Viewer,
    can_read_comment,
    can_read_response,
    can_view_entry,
    readable_comments,
    require,
    viewer_for,
)
from kb.states import CitationKind, EntryKind, FindingStatus, ResponseStatus
from kb.users.models import User

CITABLE_ENTRY_KINDS = frozenset({EntryKind.LESSON, EntryKind.PAPER})
"""Kinds of entry cited whole; a review is evidence only through its papers, its documents, comments and responses."""
PAGE_QUOTE_CHARS = 4000
"""The most characters of a cited page kept as its quote."""


class CitationError(InvalidInputError):
    """A citation cannot be made or changed; the message says why, for the person trying."""


# --- Loading ---------------------------------------------------------------------------------------


def paragraphs_of(entries: Collection[Entry]) -> dict[int, list[Paragraph]]:
    """The current anchored paragraphs of each paper, from its stored rendering (one query)."""
    papers = [entry for entry in entries if entry.kind == EntryKind.PAPER]
    revisions = current_revisions([paper.id for paper in papers]) if papers else {}
    found: dict[int, list[Paragraph]] = {}
    for paper in papers:
        revision = revisions.get(paper.id)
        stored = (revision.rendered or {}).get("body", {}).get("paragraphs", []) if revision is not None else []
        found[paper.id] = [Paragraph(item["anchor"], item["text"]) for item in stored]
    return found


def paper_paragraphs(paper: Entry) -> list[Paragraph]:
    """The current anchored paragraphs of one paper."""
    return paragraphs_of([paper]).get(paper.id, [])


PICKER_COMMENTS = 200
"""The most comments of one entry the picker lists (the newest); search finds older ones by their words."""


def citable_comments(viewer: Viewer, entry: Entry) -> list[Comment]:
    """The comments on `entry` whose text `viewer` may read, newest first (the route has checked the entry)."""
    query = (
        select(Comment)
        .where(Comment.entry_id == entry.id, Comment.finding_id.is_(None), readable_comments(viewer))
        .options(selectinload(Comment.author))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(PICKER_COMMENTS)
    )
    return list(db.session.scalars(query))


def citable_responses(viewer: Viewer, review: Review, entry: Entry) -> list[Response]:
    """Submitted responses `viewer` may read to consultations on `entry`, when it is the review or one of its papers."""
    if entry.id != review.id and entry.review_id != review.id:
        return []
    query = (
        select(Response)
        .join(Consultation, Consultation.id == Response.consultation_id)
        .where(Consultation.entry_id == entry.id, Response.status == ResponseStatus.SUBMITTED)
        .options(selectinload(Response.consultation))
        .order_by(Consultation.closes_at.desc(), Response.submitted_at, Response.id)
    )
    return [response for response in db.session.scalars(query) if can_read_response(viewer, response)]


def citable_documents(entry: Entry) -> list[tuple[Document, list[DocumentPage]]]:
    """The current documents of `entry` (the route has checked the entry), each with its pages holding text."""
    documents = db.session.scalars(
        select(Document)
        .where(Document.entry_id == entry.id, Document.replaced_by_id.is_(None), Document.removed_at.is_(None))
        .options(selectinload(Document.pages))
        .order_by(Document.position, Document.id)
    )
    return [(document, [page for page in document.pages if page.text.strip()]) for document in documents]


def cited_pages(finding: Finding) -> set[tuple[int | None, int | None]]:
    """The (document, page number) pairs a finding cites already, to mark them in the picker."""
    return {(item.document_id, item.page_number) for item in finding.citations if item.kind == CitationKind.PAGE}


def cited_keys(finding: Finding) -> set[tuple[str, int | None, str | None, int | None, int | None]]:
    """What a finding cites already, as (kind, entry, anchor, comment, response), to mark it in the picker."""
    return {
        (item.kind, item.entry_id, item.paragraph_anchor, item.comment_id, item.response_id)
        for item in finding.citations
    }


# --- Verbs -----------------------------------------------------------------------------------------


def _require_editable(finding: Finding, actor: User | None) -> None:
    require(actor, "review.work", finding.review)
    if finding.status == FindingStatus.PUBLISHED:
        raise CitationError(f"Finding {finding.number} is published: its citations can no longer change.")


def _describe(citation: Citation) -> str:
    """A short, audit-log description of what a citation points at."""
    if citation.kind == CitationKind.PARAGRAPH:
        return f"paragraph {citation.paragraph_anchor} of entry {citation.entry_id}"
    if citation.kind == CitationKind.PAGE:
        return f"page {citation.page_number} of document {citation.document_id} of entry {citation.entry_id}"
    if citation.kind == CitationKind.COMMENT:
        return f"comment {citation.comment_id}"
    if citation.kind == CitationKind.RESPONSE:
        return f"response {citation.response_id}"
    return f"entry {citation.entry_id}"


def _audit_label(finding: Finding) -> str:
    return f"{finding.review.slug} finding {finding.number}"


def _check_response(viewer: Viewer, review: Review, response: Response) -> None:
    if not can_read_response(viewer, response) or response.status != ResponseStatus.SUBMITTED:
        raise PermissionDeniedError("citation.response")
    consulted = response.consultation.entry
    if consulted.id != review.id and consulted.review_id != review.id:
        raise CitationError("Only responses to consultations on this review or its papers can be cited.")


def _new_citation(
    viewer: Viewer,
    review: Review,
    kind: str,
    *,
    entry: Entry | None,
    anchor: str,
    comment: Comment | None,
    response: Response | None,
    document: Document | None = None,
    page: int | None = None,
) -> Citation:
    """An unsaved citation of `kind`, once `viewer` is known to see what it cites."""
    if kind == CitationKind.PAGE:
        return _page_citation(viewer, document, page)
    if kind in (CitationKind.ENTRY, CitationKind.PARAGRAPH):
        if entry is None or not can_view_entry(viewer, entry):
            raise PermissionDeniedError("citation.entry")
        if kind == CitationKind.ENTRY:
            if entry.kind not in CITABLE_ENTRY_KINDS:
                raise CitationError("Only lessons and papers can be cited whole.")
            return Citation(kind=kind, entry_id=entry.id)
        if entry.kind != EntryKind.PAPER:
            raise CitationError("Only a paper's paragraphs can be cited one by one.")
        paragraph = next((p for p in paper_paragraphs(entry) if p.anchor == anchor), None)
        if paragraph is None:
            raise CitationError("That paragraph is no longer in the paper. Choose it from the paper as it is now.")
        return Citation(kind=kind, entry_id=entry.id, paragraph_anchor=paragraph.anchor, quote=paragraph.text)
    if kind == CitationKind.COMMENT:
        if comment is None or not can_view_entry(viewer, comment.entry) or not can_read_comment(viewer, comment):
            raise PermissionDeniedError("citation.comment")
        if comment.finding_id is not None:
            raise CitationError("A finding's discussion is not evidence: cite what it talks about instead.")
        return Citation(kind=kind, comment_id=comment.id, quote=comment.body)
    if kind == CitationKind.RESPONSE:
        if response is None:
            raise PermissionDeniedError("citation.response")
        _check_response(viewer, review, response)
        return Citation(kind=kind, response_id=response.id)
    raise CitationError("Choose a lesson, a paper, a paragraph, a page, a comment or a response to cite.")


def _page_citation(viewer: Viewer, document: Document | None, number: int | None) -> Citation:
    """An unsaved citation of page `number` of `document`, a current document of an entry `viewer` may see."""
    if document is None or not can_view_entry(viewer, document.entry):
        raise PermissionDeniedError("citation.document")
    if not document.is_current:
        raise CitationError("That file has been replaced or removed. Choose a page of the entry's current files.")
    if number is None:
        raise CitationError(f"Choose a page of {document.title} to cite.")
    page = next((page for page in document.pages if page.number == number), None)
    if page is None or not page.text.strip():
        raise CitationError(f"{document.title} has no page {number} with text to cite.")
    return Citation(
        kind=CitationKind.PAGE,
        entry_id=document.entry_id,
        document_id=document.id,
        page_number=page.number,
        quote=page.text.strip()[:PAGE_QUOTE_CHARS],
    )


def _source_key(citation: Citation) -> tuple[object, ...]:
    return (
        citation.kind,
        citation.entry_id,
        citation.paragraph_anchor,
        citation.comment_id,
        citation.response_id,
        citation.document_id,
        citation.page_number,
    )


def _same_source(one: Citation, other: Citation) -> bool:
    return _source_key(one) == _source_key(other)


def add_citation(
    finding: Finding,
    *,
    actor: User | None,
    kind: str,
    entry: Entry | None = None,
    anchor: str = "",
    comment: Comment | None = None,
    response: Response | None = None,
    document: Document | None = None,
    page: int | None = None,
    note: str = "",
) -> Citation:
    """Cite a lesson or paper (`entry`), a paper's paragraph (`anchor`), a document's `page`, a comment or a response.

    Raises `PermissionDeniedError` when the actor may not work on the review or see the
    source, and `CitationError` for a published finding, a source cited already, a
    paragraph no longer in the paper, a page not in a current document, or a response from elsewhere.
    """
    _require_editable(finding, actor)
    viewer = viewer_for(actor)
    citation = _new_citation(
        viewer,
        finding.review,
        kind,
        entry=entry,
        anchor=anchor,
        comment=comment,
        response=response,
        document=document,
        page=page,
    )
    if any(_same_source(citation, existing) for existing in finding.citations):
        raise CitationError(f"Finding {finding.number} already cites this.")
    last = db.session.scalar(select(func.max(Citation.position)).where(Citation.finding_id == finding.id))
    citation.position = (last if last is not None else -1) + 1
    citation.note = note.strip()[:500]
    citation.created_by_id = actor.id if actor else None
    finding.citations.append(citation)
    reopen_agreement(finding, actor=actor, why=telling.CITATION_ADDED)
    rerender_notes(finding)
    label = _audit_label(finding)
    record_event("citation.add", actor=actor, target=finding, target_label=label, new=_describe(citation))
    db.session.flush()
    return citation


def remove_citation(citation: Citation, *, actor: User | None) -> None:
    """Take a citation off its finding; raises like `add_citation` when that is not allowed.

    The markers of later citations are renumbered, and the removed citation's markers say
    so (`kb.panels.notes.REMOVED`), in a new revision of the finding when any marker changed.
    """
    finding = citation.finding
    _require_editable(finding, actor)
    ordered = in_order(finding.citations)
    removed = ordered.index(citation) + 1
    record_event(
        "citation.remove", actor=actor, target=finding, target_label=_audit_label(finding), old=_describe(citation)
    )
    finding.citations.remove(citation)
    reopen_agreement(finding, actor=actor, why=telling.CITATION_REMOVED)
    _renumber(in_order(finding.citations))
    new_numbers: dict[int, int | None] = {removed: None}
    new_numbers.update({number: number - 1 for number in range(removed + 1, len(ordered) + 1)})
    message = f"Notes renumbered after citation {removed} was removed"
    if renumber_notes(finding, new_numbers, actor=actor, message=message) is None:
        rerender_notes(finding)
    db.session.flush()


def move_citation(citation: Citation, *, actor: User | None, offset: int) -> bool:
    """Move a citation `offset` places (-1 up, 1 down) in its finding's list; False when already at that end.

    The markers of the two citations that swap places are swapped in the text, in a new
    revision of the finding; only then, the text having changed, is agreement on it reopened.
    """
    finding = citation.finding
    _require_editable(finding, actor)
    ordered = in_order(finding.citations)
    index = ordered.index(citation)
    target = index + offset
    if offset == 0 or target < 0 or target >= len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(ordered)
    record_event(
        "citation.move",
        actor=actor,
        target=finding,
        target_label=_audit_label(finding),
        old=str(index + 1),
        new=str(target + 1),
    )
    message = f"Notes renumbered after citation {index + 1} was moved to {target + 1}"
    swapped = {index + 1: target + 1, target + 1: index + 1}
    if renumber_notes(finding, swapped, actor=actor, message=message) is not None:
        reopen_agreement(finding, actor=actor, why=telling.CITATION_CHANGED)
    db.session.flush()
    return True


def in_order(citations: Sequence[Citation]) -> list[Citation]:
    """Citations as their finding lists them (the loaded list may predate a move)."""
    return sorted(citations, key=lambda item: (item.position, item.id))


def _renumber(citations: Sequence[Citation]) -> None:
    for position, item in enumerate(citations):
        item.position = position
