"""What the document pages and an entry's page show of its files: lists, labels, and a page's text as paragraphs.

Every function takes an entry already loaded through the visibility rule (or one of its
documents); reading goes through `kb.documents.queries`, which never reaches past that
entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kb.documents import queries
from kb.documents.models import Document
from kb.documents.sniff import BY_MEDIA_TYPE
from kb.entries.models import Entry
from kb.permissions import Viewer

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def type_label(document: Document) -> str:
    """What people call the document's kind of file, e.g. "PDF", "Word document"."""
    file_type = BY_MEDIA_TYPE.get(document.media_type)
    return file_type.label[0].upper() + file_type.label[1:] if file_type else document.media_type


def shown_inline(document: Document) -> bool:
    """Whether a browser may show the file itself (PDF, PNG, JPEG, with its true type) rather than only save it."""
    file_type = BY_MEDIA_TYPE.get(document.media_type)
    return file_type is not None and file_type.inline


def size_label(size: int) -> str:
    """A file size as a reader says it: "812 bytes", "14 KB", "2.5 MB"."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def paragraphs(text: str) -> list[str]:
    """A page's text as paragraphs: split at blank lines, each trimmed, empty ones dropped."""
    return [part.strip() for part in PARAGRAPH_BREAK.split(text) if part.strip()]


def past_documents(entry: Entry) -> list[Document]:
    """The versions `entry` no longer shows, replaced or removed, the newest first."""
    return [document for document in queries.entry_documents_history(entry) if not document.is_current]


@dataclass(frozen=True)
class VersionView:
    """One document version's place among the versions of its file."""

    earlier: list[Document]
    """The versions it replaced, the newest first."""
    latest: Document
    """The newest version of the file (itself when never replaced)."""


def version_view(document: Document) -> VersionView:
    """Where `document` stands among its file's versions."""
    chain = queries.document_history(document)
    at = chain.index(document) if document in chain else 0
    return VersionView(earlier=list(reversed(chain[:at])), latest=chain[-1])


@dataclass(frozen=True)
class EntryDocuments:
    """An entry page's documents: those attached now, and whether it has earlier or removed ones."""

    current: list[Document]
    has_past: bool


def entry_documents(viewer: Viewer, entry: Entry) -> dict[str, Any]:
    """The entry page's context (a provider of `kb.entries.extras`): what it lists under "Documents".

    `entry` was loaded through the visibility rule, and its documents follow it: whoever
    reads the entry reads its files.
    """
    every = queries.entry_documents_history(entry)
    current = sorted((document for document in every if document.is_current), key=lambda d: (d.position, d.id))
    return {"documents": EntryDocuments(current, len(every) > len(current))}
