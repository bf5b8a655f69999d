"""Entry models: one table of common fields, one per kind, plus links and revisions."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import PartialDate, utcnow
from kb.entries.vocabulary import entry_path
from kb.extensions import Model, db
from kb.states import (
    ActionStatus,
    EntryKind,
    EntryStatus,
    LinkRelation,
    Maturity,
    PaperStatus,
    PaperType,
    ReviewStatus,
    Visibility,
    allowed,
)
from kb.taxonomy.models import Tag

if TYPE_CHECKING:
    from kb.users.models import User

entry_tags = Table(
    "entry_tags",
    db.metadata,
    Column("entry_id", ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Entry(Model):
    """What every lesson, review and paper has: identity, text, metadata and state."""

    __tablename__ = "entries"
    __table_args__: tuple[Any, ...] = (
        CheckConstraint(allowed("kind", EntryKind), name="kind"),
        CheckConstraint(allowed("status", EntryStatus), name="status"),
        CheckConstraint(allowed("visibility", Visibility), name="visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="published", index=True)
    visibility: Mapped[str] = mapped_column(String(16), default="public", index=True)
    region: Mapped[str | None] = mapped_column(String(120), index=True)
    event_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    event_date_precision: Mapped[str | None] = mapped_column(String(8))
    organisation: Mapped[str | None] = mapped_column(String(200))
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    imported_hash: Mapped[str | None] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="SET NULL"), index=True)
    status_note: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    locked: Mapped[bool] = mapped_column(default=False, server_default=false())
    """A locked entry takes no new comments; those it has stay readable."""
    featured_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    """When a moderator featured the entry on the home page; None when it is not featured."""
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="SET NULL"), index=True)
    """The entry this duplicate was merged into; its address redirects there."""

    tags: Mapped[list[Tag]] = relationship(secondary=entry_tags, order_by=Tag.label)
    author: Mapped[User | None] = relationship("User", foreign_keys=[author_id])
    review: Mapped[Entry | None] = relationship(foreign_keys=[review_id], remote_side=[id])
    merged_into: Mapped[Entry | None] = relationship(foreign_keys=[merged_into_id], remote_side=[id])
    revisions: Mapped[list[Revision]] = relationship(
        back_populates="entry", order_by="Revision.number", cascade="all, delete-orphan"
    )
    outgoing_links: Mapped[list[EntryLink]] = relationship(
        foreign_keys="EntryLink.source_id", back_populates="source", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_abstract": True}

    @property
    def path(self) -> str:
        """The entry's stable URL path."""
        return entry_path(self.kind, self.slug)

    @property
    def event_day(self) -> PartialDate | None:
        """When the event happened, at the precision it is known."""
        return PartialDate.from_stored(self.event_date, self.event_date_precision)


class Lesson(Entry):
    """A lesson: its four sections, its maturity and the state of action on it."""

    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint(allowed("maturity", Maturity), name="maturity"),
        CheckConstraint(allowed("action_status", ActionStatus), name="action_status"),
    )

    id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    driving_event: Mapped[str] = mapped_column(Text, default="")
    lesson_text: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    maturity: Mapped[str] = mapped_column(String(16), default="observation", index=True)
    action_status: Mapped[str] = mapped_column(String(16), default="identified", index=True)
    action_owner: Mapped[str | None] = mapped_column(String(200))
    action_due: Mapped[dt.date | None] = mapped_column(Date)
    action_due_precision: Mapped[str | None] = mapped_column(String(8))
    action_note: Mapped[str | None] = mapped_column(Text)
    """Why the action was not accepted, or a note on its progress."""
    action_evidence: Mapped[str | None] = mapped_column(Text)
    """Markdown: what was done and how it was checked; needed before an action is verified."""

    __mapper_args__ = {"polymorphic_identity": "lesson"}


class Review(Entry):
    """A review commissioned to learn from what happened."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint(allowed("review_status", ReviewStatus), name="review_status"),)

    id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    commissioning_body: Mapped[str] = mapped_column(String(200), default="")
    review_status: Mapped[str] = mapped_column(String(16), default="commissioned", index=True)
    terms_of_reference: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"polymorphic_identity": "review"}


class Paper(Entry):
    """A meeting paper: agenda, minutes, discussion paper, briefing or report."""

    __tablename__ = "papers"
    __table_args__ = (
        CheckConstraint(allowed("paper_type", PaperType), name="paper_type"),
        CheckConstraint(allowed("paper_status", PaperStatus), name="paper_status"),
    )

    id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    meeting: Mapped[str | None] = mapped_column(String(300))
    meeting_date: Mapped[dt.date | None] = mapped_column(Date)
    meeting_date_precision: Mapped[str | None] = mapped_column(String(8))
    paper_type: Mapped[str] = mapped_column(String(24), default="report")
    paper_status: Mapped[str] = mapped_column(String(8), default="final")

    __mapper_args__ = {"polymorphic_identity": "paper"}

    @property
    def meeting_day(self) -> PartialDate | None:
        """The meeting's date, at the precision it is known."""
        return PartialDate.from_stored(self.meeting_date, self.meeting_date_precision)


class EntryLink(Model):
    """A link from one entry to another; shown as a backlink on the target."""

    __tablename__ = "entry_links"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "relation"),
        CheckConstraint(allowed("relation", LinkRelation), name="relation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)

    source: Mapped[Entry] = relationship(foreign_keys=[source_id], back_populates="outgoing_links")
    target: Mapped[Entry] = relationship(foreign_keys=[target_id])


class Revision(Model):
    """One saved state of an entry: the whole document, who saved it, and its rendered HTML."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("entry_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author_name: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    message: Mapped[str] = mapped_column(String(500), default="")
    document: Mapped[str] = mapped_column(Text)
    rendered: Mapped[dict[str, Any]] = mapped_column(JSON)

    entry: Mapped[Entry] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship("User")

    @property
    def author_label(self) -> str:
        """Who saved it: their name, with their organisation when they have an account with one."""
        if self.author is not None and self.author.organisation is not None:
            return f"{self.author_name} ({self.author.organisation.name})"
        return self.author_name
