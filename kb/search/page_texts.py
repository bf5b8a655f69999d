"""The document pages search reads: their texts for indexing, and the pages behind a page of hits.

Each page of each current document of an entry (not a replaced or removed version) is a
part of its entry's index document, as a readable comment is, so it is exactly as
visible in search as its entry. A hit whose words are on pages lists the best of them,
each linking to its page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from kb.documents.links import document_page_link
from kb.documents.models import Document, DocumentPage

MAX_CUES = 24
"""Above this many searched words, pages are not narrowed down in SQL first (the condition would cost more)."""


def current_documents() -> ColumnElement[bool]:
    """SQL condition on `Document`: versions still attached to their entry."""
    return and_(Document.replaced_by_id.is_(None), Document.removed_at.is_(None))


@dataclass(frozen=True)
class PageText:
    """One page of a current document: which document, its title, the page's number and text."""

    document_id: int
    entry_id: int
    document_title: str
    number: int
    text: str

    def link(self, entry_path: str) -> str:
        """Where the page is read: its section on the document's text page."""
        return document_page_link(entry_path, self.document_id, self.number)


@dataclass(frozen=True)
class IndexedDocuments:
    """What an entry's current documents add to its index document: their titles and page texts, in order."""

    titles: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()


def _pages_query(entry_ids: Collection[int]) -> Select[int, int, str, int, str]:
    return (
        select(Document.id, Document.entry_id, Document.title, DocumentPage.number, DocumentPage.text)
        .join(DocumentPage, DocumentPage.document_id == Document.id)
        .where(Document.entry_id.in_(sorted(entry_ids)), current_documents())
        .order_by(Document.entry_id, Document.position, Document.id, DocumentPage.number)
    )


def indexed_documents(session: Session, entry_ids: Collection[int]) -> dict[int, IndexedDocuments]:
    """The titles and page texts of each entry's current documents, in two queries (entries without any left out)."""
    if not entry_ids:
        return {}
    titles: dict[int, list[str]] = defaultdict(list)
    documents = (
        select(Document.entry_id, Document.title)
        .where(Document.entry_id.in_(sorted(entry_ids)), current_documents())
        .order_by(Document.entry_id, Document.position, Document.id)
    )
    for entry_id, title in session.execute(documents):
        titles[entry_id].append(title)
    pages: dict[int, list[str]] = defaultdict(list)
    for _, entry_id, _, _, text in session.execute(_pages_query(entry_ids)):
        if text and text.strip():
            pages[entry_id].append(text)
    return {entry_id: IndexedDocuments(tuple(titles[entry_id]), tuple(pages[entry_id])) for entry_id in titles}


def _like(cue: str) -> str:
    escaped = cue.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def pages_of_hits(
    session: Session, entry_ids: Collection[int], cues: Collection[str] = ()
) -> dict[int, list[PageText]]:
    """The pages of the current documents of the entries on a results page, in one query.

    With `cues` (the first letters of the searched words) in plain ASCII, only pages
    holding one of them are read: a page without any cannot give a snippet, and a
    document may have hundreds of pages.
    """
    if not entry_ids:
        return {}
    query = _pages_query(entry_ids)
    if cues and len(cues) <= MAX_CUES and all(cue.isascii() for cue in cues):  # SQLite lowers ASCII only
        query = query.where(or_(*(DocumentPage.text.ilike(_like(cue), escape="\\") for cue in sorted(set(cues)))))
    found: dict[int, list[PageText]] = defaultdict(list)
    for document_id, entry_id, title, number, text in session.execute(query):
        found[entry_id].append(PageText(document_id, entry_id, title, number, text))
    return dict(found)
