"""Verbs for staff writing entries by their fields: create a review or a paper, save a structured edit, preview.

A structured edit is saved as a whole document through `save_document`, the same path
as the document editor: every save is a revision, an edit from an old revision is an
`EditConflictError`, and a change of status or visibility is audited and announced as
there. Previews render text with kb's one renderer and change nothing.
"""

from __future__ import annotations

from typing import Any

from kb.audit.service import record_event
from kb.content.attachments import attachment_refs
from kb.content.document import EntryDocument, parse_document, serialise_document
from kb.contributions.service import (
    DocumentProblemsError,
    document_problems,
    mark_status,
    save_document,
    store_document,
    visible_targets,
)
from kb.documents.queries import current_documents
from kb.entries.models import Entry, Lesson, Revision
from kb.entries.service import render_document, resolver_for, shown_rendering
from kb.entries.vocabulary import KIND_PLURALS
from kb.extensions import db
from kb.permissions import require
from kb.previews import unsaved_draft
from kb.users.models import User


def create_entry(document: EntryDocument, *, actor: User) -> Entry:
    """Save a new review or meeting paper written by staff as its first revision.

    Raises PermissionDeniedError unless `actor` is staff, DocumentProblemsError when the
    document does not hold together (a link to an entry that does not exist, say).
    """
    require(actor, "entry.create-any-kind")
    text = serialise_document(document)
    result = parse_document(text, f"{KIND_PLURALS[document.kind]}/{document.slug}.md")
    if result.document is None:
        raise DocumentProblemsError(result.problems)
    problems = document_problems(document.slug, document.kind, text, result)
    if problems:
        raise DocumentProblemsError(problems)
    entry, _ = store_document(result.document, None, actor=actor, message="Written")
    mark_status(entry, None)
    record_event("entry.create", actor=actor, target=entry, new=entry.status)
    db.session.flush()
    return entry


def save_fields(
    entry: Entry, document: EntryDocument, *, actor: User, base_number: int | None, message: str = ""
) -> Revision:
    """Save a structured edit: `document` is the entry's current document with the form's fields put in.

    A changed maturity is audited as the curation page audits it. Raises what
    `save_document` raises: PermissionDeniedError, EditConflictError, DocumentProblemsError.
    """
    maturity = entry.maturity if isinstance(entry, Lesson) else None
    # The form does not show the list of files: it names the entry's documents as they are now.
    document.attachments = attachment_refs(entry, current_documents(entry))
    revision = save_document(entry, serialise_document(document), actor=actor, base_number=base_number, message=message)
    if isinstance(entry, Lesson) and entry.maturity != maturity:
        record_event("entry.maturity", actor=actor, target=entry, old=maturity, new=entry.maturity)
        db.session.flush()
    return revision


def preview_document(document: EntryDocument, *, actor: User, entry: Entry | None = None) -> dict[str, Any]:
    """Every Markdown text of `document` rendered as it would be stored, keyed as `markdown_texts()`."""
    targets = visible_targets(actor, document.markdown_texts().values())
    rendered, _ = render_document(document, resolver_for(entry or unsaved_draft(), targets))
    return shown_rendering(rendered)
