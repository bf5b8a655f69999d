"""The durable queue of index changes (in the change's own transaction); entries' parts, vectors and token weights."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
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


class MeaningPart(Model):
    """One part of an entry (a lesson's section, a paper's section, a document's page) and its vector.

    Written by the meaning layer when the entry's index document is written, in the same
    drain; `fingerprint` is of the part's text and the model, so unchanged parts are not
    embedded again. Rows go with their entry. Each worker reads all rows into one matrix and
    reads them again when the newest row id or the count changes.
    """

    __tablename__ = "meaning_parts"
    # Ids only ever grow, on SQLite too (AUTOINCREMENT): each worker's matrix reads the rows above the newest
    # id it holds, so an id used again after a delete would hide a change from it.
    __table_args__ = (Index("ix_meaning_parts_entry", "entry_id", "position"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(300), default="")
    """What the part is, as a reader would say it ("Why it happened", "Page 4 of Terms.pdf")."""
    anchor: Mapped[str] = mapped_column(String(300), default="")
    """Where on the entry's page (or which document page) the part is, as a link's fragment or path."""
    model: Mapped[str] = mapped_column(String(80))
    fingerprint: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    """float32 little-endian, `kb.search.meaning.model.DIMENSIONS` of them, of unit length."""


class MeaningWeights(Model):
    """The token weights search by meaning pools with: each token's inverse document frequency over all parts.

    Counted from every entry's parts on rebuild (and at the first fill); saves in between use
    the newest row of their model. `version` is a hash of the weights, part of each part's
    fingerprint, so vectors pooled with other weights are stale. Workers read the newest row
    again when its id changes.
    """

    __tablename__ = "meaning_weights"
    __table_args__ = (Index("ix_meaning_weights_model", "model", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(64))
    parts: Mapped[int] = mapped_column(Integer)
    """How many parts the document frequencies were counted over."""
    weights: Mapped[bytes] = mapped_column(LargeBinary)
    """float32 little-endian, one per token of the model's vocabulary."""
    made_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
