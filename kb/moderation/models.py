"""Flags raised by members on comments and entries, and what moderators decided."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import utcnow
from kb.extensions import Model
from kb.states import FlagReason, FlagResolution, allowed

if TYPE_CHECKING:
    from kb.comments.models import Comment
    from kb.entries.models import Entry
    from kb.users.models import User

FLAG_REASONS: dict[str, str] = FlagReason.labels()
FLAG_RESOLUTIONS: dict[str, str] = FlagResolution.labels()


def flag_target_key(entry_id: int, comment_id: int | None) -> str:
    """What a flag is about, as one value: `comment:<id>` or `entry:<id>` (one flag per person and item)."""
    return f"comment:{comment_id}" if comment_id is not None else f"entry:{entry_id}"


class Flag(Model):
    """A member's report that a comment or an entry needs a moderator's look.

    `entry_id` is always set (the comment's entry for a comment), so a flag is exactly
    as visible as the entry it is about.
    """

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("reporter_id", "target_key"),
        CheckConstraint(allowed("reason", FlagReason), name="reason"),
        CheckConstraint(allowed("resolution", FlagResolution), name="resolution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_key: Mapped[str] = mapped_column(String(40), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    resolution: Mapped[str | None] = mapped_column(String(16), index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    entry: Mapped[Entry] = relationship("Entry")
    comment: Mapped[Comment | None] = relationship("Comment")
    reporter: Mapped[User] = relationship("User", foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship("User", foreign_keys=[resolved_by_id])

    @property
    def is_open(self) -> bool:
        """Whether no moderator has acted on the flag yet."""
        return self.resolution is None
