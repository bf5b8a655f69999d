"""Comments on entries and the earlier versions of each comment's text."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from markupsafe import Markup
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import utcnow
from kb.extensions import Model
from kb.states import CommentStatus, allowed

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.panels.models import Finding
    from kb.users.models import User

COMMENT_STATUSES: dict[str, str] = CommentStatus.labels()
"""A comment's states and their labels (see `kb.states.CommentStatus`)."""

PATH_DIGITS = 10
"""Each step of a comment's `thread_path` is its id, zero-padded to this many digits."""


def comment_anchor(comment_id: int) -> str:
    """The id of a comment's element on the page that shows it (`#comment-<id>`)."""
    return f"comment-{comment_id}"


def comment_permalink(comment_id: int) -> str:
    """A comment's lasting address: it redirects to the page showing the comment, wherever that is now.

    Deep replies live on a "continue this thread" page and merged comments on another
    entry, so links that are kept (mail, exports) use this rather than a page address.
    """
    return f"/comments/{comment_id}"


def path_step(comment_id: int) -> str:
    """One step of a thread path: the comment's id, zero-padded so paths sort as the thread reads."""
    return f"{comment_id:0{PATH_DIGITS}d}"


class Comment(Model):
    """One comment on an entry, a reply when `parent_id` is set.

    `thread_path` is the ids from the top of the thread down to this comment, so a whole
    thread or any branch of it is one indexed range query, at any depth. A comment is
    never deleted through the interface: hiding and removing change `status`.
    """

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_entry_path", "entry_id", "thread_path"),
        CheckConstraint(allowed("status", CommentStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    depth: Mapped[int] = mapped_column(default=0)
    thread_path: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="visible", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    edited_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    """Set on a panel's discussion of a finding: readable only by those who may work on the finding."""
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """Set on the first comment of a thread when the thread is marked resolved."""
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    entry: Mapped[Entry] = relationship("Entry")
    author: Mapped[User | None] = relationship("User", foreign_keys=[author_id])
    moderated_by: Mapped[User | None] = relationship("User", foreign_keys=[moderated_by_id])
    resolved_by: Mapped[User | None] = relationship("User", foreign_keys=[resolved_by_id])
    finding: Mapped[Finding | None] = relationship("Finding")
    versions: Mapped[list[CommentVersion]] = relationship(
        back_populates="comment", order_by="CommentVersion.number", cascade="all, delete-orphan"
    )

    @property
    def anchor(self) -> str:
        """The id of the comment's element on its entry's page."""
        return comment_anchor(self.id)

    @property
    def permalink(self) -> str:
        """The comment's lasting address (see `comment_permalink`)."""
        return comment_permalink(self.id)

    @property
    def shown_html(self) -> Markup:
        """The stored rendering (sanitised by kb.markdown when the comment was saved), ready to print."""
        return Markup(self.html)  # noqa: S704 - rendered and sanitised when saved


class CommentVersion(Model):
    """The text a comment had before one of its edits (the current text is on the comment)."""

    __tablename__ = "comment_versions"
    __table_args__ = (UniqueConstraint("comment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    replaced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="versions")


class CommentDraft(Model):
    """What a signed-out visitor tried to post, kept until they sign in again.

    A session can end while someone writes; their text is saved here under a random
    token that travels through the sign-in page, so the form comes back filled in.
    Drafts older than `DRAFT_MAX_AGE` are ignored and purged; one address keeps at most
    `COMMENT_DRAFTS_PER_ADDRESS` (its oldest are dropped for a new one).
    """

    __tablename__ = "comment_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    client_address: Mapped[str | None] = mapped_column(String(64), index=True)
    """The client address (IPv6 by /64) that posted it: drafts are capped per address."""


DRAFT_MAX_AGE = dt.timedelta(days=1)
"""A draft saved across a sign-in is offered back for this long."""
