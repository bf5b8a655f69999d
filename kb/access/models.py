"""The `access_tokens` table: one row per token, holding its digest and never the token itself."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import as_utc, utcnow
from kb.extensions import Model
from kb.states import TokenKind, TokenScope, allowed

if TYPE_CHECKING:
    from kb.users.models import User


class AccessToken(Model):
    """A token a person made for themselves: an API token or their feed addresses' secret.

    `digest` is the SHA-256 of the whole token; `prefix` is its first characters, shown on
    the account page so a person can tell their tokens apart. A revoked or expired token
    stays as a row (with `revoked_at` or a past `expires_at`) so its last use stays visible.
    """

    __tablename__ = "access_tokens"
    __table_args__ = (
        CheckConstraint(allowed("kind", TokenKind), name="kind"),
        CheckConstraint(allowed("scope", TokenScope), name="scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16), default=TokenScope.READ)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def is_live(self, now: dt.datetime) -> bool:
        """Neither revoked nor past its expiry at `now`."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or as_utc(self.expires_at) > now

    @property
    def can_write(self) -> bool:
        """Whether the token may write (comments, lesson submissions, consultation responses)."""
        return self.scope == TokenScope.READ_WRITE
