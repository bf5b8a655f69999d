"""Documents made straight through the model, with their page texts, for the search and citation tests.

The bytes are not stored: these tests read only the rows (the text kb read from a file).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

from kb.dates import utcnow
from kb.documents.models import Document, DocumentPage
from kb.entries.models import Entry
from kb.extensions import db
from kb.states import DocumentTextStatus


def add_document(
    entry: Entry, title: str, pages: Sequence[str], *, filename: str | None = None, commit: bool = True
) -> Document:
    """Attach a document titled `title` to `entry` whose text has one page per item of `pages`."""
    name = filename or f"{uuid.uuid4().hex[:8]}.pdf"
    document = Document(
        entry_id=entry.id,
        filename=name,
        title=title,
        media_type="application/pdf",
        size=sum(len(text) for text in pages),
        sha256=hashlib.sha256("\f".join(pages).encode()).hexdigest(),
        stored_name=uuid.uuid4().hex,
        text_status=DocumentTextStatus.EXTRACTED,
        page_count=len(pages),
        pages=[DocumentPage(number=number, text=text) for number, text in enumerate(pages, start=1)],
    )
    db.session.add(document)
    db.session.flush()
    if commit:
        db.session.commit()
    return document


def replace_document(old: Document, title: str, pages: Sequence[str]) -> Document:
    """A new version of `old` with other pages; `old` stays as history, pointing at it."""
    new = add_document(old.entry, title, pages, filename=f"new-{old.filename}", commit=False)
    old.replaced_by_id = new.id
    db.session.commit()
    return new


def remove_document(document: Document) -> None:
    """Take `document` off its entry, keeping its row."""
    document.removed_at = utcnow()
    db.session.commit()
