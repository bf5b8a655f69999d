"""The outbox: every mail kb means to send, written in the same transaction as the work it reports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.dates import utcnow
from kb.extensions import Model


class OutboxMail(Model):
    """One mail to one person, from the moment its transaction commits until some days after it is sent.

    A sender claims a row (`claimed_at`, `claimed_by`, one more `attempts`) with one
    conditional UPDATE and commits the claim before it talks to the mail server, so two
    senders never both send it. It then sets `sent_at`, or records `last_error` and the
    time of the next try (`next_attempt_at`) and gives the claim back. A claim whose
    sender died is taken over once it is `retry.CLAIM_TIMEOUT` old. A sent mail's body and
    headers are blanked (its links may sign someone in); the rest is kept a few days.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    message_id: Mapped[str] = mapped_column(String(255))
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
