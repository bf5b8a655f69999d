"""The durable queue of index changes, written in the same transaction as the change itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.dates import utcnow
from kb.extensions import Model


class SearchQueueItem(Model):
    """One entry whose index document must be written (or removed) again.

    A row is added whenever an entry, its revision or its tags change, in the same
    transaction, so it exists exactly when the change was committed. Whichever process
    next holds the writer lock indexes the entry's current state and sets `indexed_at`;
    done rows are kept for a day so a rebuild can replay what changed while it ran.
    """

    __tablename__ = "search_queue"
    __table_args__ = (Index("ix_search_queue_pending", "indexed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(index=True)
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    indexed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
