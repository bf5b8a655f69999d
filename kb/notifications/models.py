"""What people follow, what they are told, and how they like to be told."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import utcnow
from kb.extensions import Model
from kb.states import FollowTarget, MailDelivery, NotificationKind, allowed

if TYPE_CHECKING:
    from kb.users.models import User

FOLLOW_TARGETS: dict[str, str] = FollowTarget.labels()
"""What can be followed. Following a review also follows the entries of its panel's work."""

NOTIFICATION_KINDS: dict[str, str] = NotificationKind.labels()


class Follow(Model):
    """One person following an entry, a theme or a review."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target_id"),
        CheckConstraint(allowed("target_type", FollowTarget), name="target_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Model):
    """One thing one person is told, in the app and, by their settings, by mail.

    `entry_id` names the entry it is about, so it is shown and mailed only while the
    person may still see that entry. `mailed_at` is set when it went out on its own;
    `digest_at` when a digest run claimed it, so no item is in two digests.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_digest", "digest_at", "kind"),
        CheckConstraint(allowed("kind", NotificationKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    """The finding it is about: shown and mailed only while the person may still work on or read that finding."""
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    mailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    digest_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    in_app: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    for_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship("User", foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship("User", foreign_keys=[actor_id])


class NotificationSettings(Model):
    """How one person wants to be told; a person without a row has the defaults (all on)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    mail_mentions: Mapped[bool] = mapped_column(Boolean, default=True)
    mail_replies: Mapped[bool] = mapped_column(Boolean, default=True)
    mail_moderation: Mapped[bool] = mapped_column(Boolean, default=True)
    mail_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NotificationChoice(Model):
    """How one person wants to hear of one topic (a group of kinds, `kb.notifications.topics`).

    A person without a row for a topic has its default: shown in the app and mailed at once.
    """

    __tablename__ = "notification_choices"
    __table_args__ = (CheckConstraint(allowed("delivery", MailDelivery), name="delivery"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(24), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    delivery: Mapped[str] = mapped_column(String(8), default=MailDelivery.NOW)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
