"""Reading the documents of an entry: the current files, one file by id, and the history of versions.

Documents have no visibility of their own: a route first loads the entry through the
visibility rule (`kb.entries.queries`), then its documents here, so a document of an entry
the viewer may not see is never reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from kb.documents.models import Document
from kb.errors import NotFoundError
from kb.extensions import db

if TYPE_CHECKING:
    from kb.entries.models import Entry


def current_documents(entry: Entry) -> list[Document]:
    """The files attached to `entry` now, in their listed order."""
    query = (
        select(Document)
        .where(Document.entry_id == entry.id, Document.replaced_by_id.is_(None), Document.removed_at.is_(None))
        .order_by(Document.position, Document.id)
    )
    return list(db.session.scalars(query))


def entry_documents_history(entry: Entry) -> list[Document]:
    """Every version of every file `entry` has had, current or not, newest first."""
    query = (
        select(Document).where(Document.entry_id == entry.id).order_by(Document.uploaded_at.desc(), Document.id.desc())
    )
    return list(db.session.scalars(query))


def document_of_entry(entry: Entry, document_id: int) -> Document:
    """The document `document_id` of `entry` (any version); raises NotFoundError when `entry` has none such."""
    document = db.session.get(Document, document_id)
    if document is None or document.entry_id != entry.id:
        raise NotFoundError("document")
    return document


def document_history(document: Document) -> list[Document]:
    """The versions of `document`'s file, from the first to the latest: each replaced by the next."""
    versions = {version.id: version for version in entry_documents_history(document.entry)}
    earlier = {version.replaced_by_id: version for version in versions.values() if version.replaced_by_id is not None}
    first = document
    while first.id in earlier and earlier[first.id] is not first:
        first = earlier[first.id]
    chain = [first]
    while (later := versions.get(chain[-1].replaced_by_id or 0)) is not None and later not in chain:
        chain.append(later)
    return chain
