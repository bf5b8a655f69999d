"""The document models: a file attached to an entry, each of its versions, and its text by page.

A `Document` row is one version of one file of one entry. Replacing a file adds a row and
points the old one at it (`replaced_by_id`); removing one stamps `removed_at`. Neither is
deleted, so an entry's history keeps every file it ever had. The bytes live on disk under
a name the server chose (`kb.documents.storage`); the text read from them is kept page by
page in `DocumentPage`, which search indexes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import utcnow
from kb.extensions import Model
from kb.states import DocumentTextStatus, allowed

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.users.models import User

CURRENT_DOCUMENT_SQL = "replaced_by_id IS NULL AND removed_at IS NULL"
"""The SQL condition of a document version still attached to its entry."""


class Document(Model):
    """One version of a file attached to an entry, with what kb read from it."""

    __tablename__ = "documents"
    __table_args__: tuple[Any, ...] = (
        CheckConstraint(allowed("text_status", DocumentTextStatus), name="text_status"),
        # An entry lists each file name once among its current files.
        Index(
            "uq_documents_current_filename",
            "entry_id",
            "filename",
            unique=True,
            sqlite_where=text(CURRENT_DOCUMENT_SQL),
            postgresql_where=text(CURRENT_DOCUMENT_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    """The file's name as the entry lists it (and as `content export` writes it), e.g. `minutes.pdf`."""
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)
    media_type: Mapped[str] = mapped_column(String(100))
    """The type found in the file's bytes, never the one its name or the browser claimed."""
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    """The server-chosen name of the bytes under `DOCUMENTS_DIR`."""
    text_status: Mapped[str] = mapped_column(String(16), default=DocumentTextStatus.PENDING)
    text_message: Mapped[str | None] = mapped_column(Text)
    """Why no text could be read, in words for the person who uploaded the file."""
    page_count: Mapped[int | None]
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    """The newer version of this file, once it was replaced."""
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the file was taken off its entry; the row stays for the entry's history."""

    entry: Mapped[Entry] = relationship("Entry")
    uploaded_by: Mapped[User | None] = relationship("User")
    replaced_by: Mapped[Document | None] = relationship(foreign_keys=[replaced_by_id], remote_side=[id])
    pages: Mapped[list[DocumentPage]] = relationship(
        back_populates="document", order_by="DocumentPage.number", cascade="all, delete-orphan"
    )

    @property
    def is_current(self) -> bool:
        """Whether this version is still attached to its entry."""
        return self.replaced_by_id is None and self.removed_at is None


class DocumentPage(Model):
    """The text of one page of a document (a sheet of a workbook, the whole of a text file)."""

    __tablename__ = "document_pages"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    """From 1, as a reader counts pages."""
    text: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[Document] = relationship(back_populates="pages")
