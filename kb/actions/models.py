"""Recurrences: pairs of lessons a moderator confirmed as the same lesson again (or as not the same)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import utcnow
from kb.extensions import Model
from kb.states import RecurrenceDecision, allowed

if TYPE_CHECKING:
    from kb.entries.models import Lesson
    from kb.users.models import User

RECURRENCE_DECISIONS: dict[str, str] = RecurrenceDecision.labels()


class Recurrence(Model):
    """A moderator's decision on a pair of similar lessons; the pair is stored lower id first."""

    __tablename__ = "recurrences"
    __table_args__ = (
        UniqueConstraint("first_id", "second_id"),
        CheckConstraint("first_id < second_id", name="ordered_pair"),
        CheckConstraint(allowed("decision", RecurrenceDecision), name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(16), default="confirmed", index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    first: Mapped[Lesson] = relationship("Lesson", foreign_keys=[first_id])
    second: Mapped[Lesson] = relationship("Lesson", foreign_keys=[second_id])
    decided_by: Mapped[User | None] = relationship("User")
