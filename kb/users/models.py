"""Accounts: organisations, users, panel seats, signed-in sessions, recovery codes, second factors being set up."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import utcnow
from kb.extensions import Model, db
from kb.states import OrganisationType, Role, allowed
from kb.users.browsers import browser_name

if TYPE_CHECKING:
    from kb.entries.models import Review

ROLES: dict[str, str] = Role.labels()
STAFF_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})

ORGANISATION_TYPES: dict[str, str] = OrganisationType.labels()


def new_session_token() -> str:
    """A fresh random token: the handle of a sign-in waiting for its second factor."""
    return secrets.token_urlsafe(32)


class Organisation(Model):
    """A member organisation of the alliance."""

    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(allowed("type", OrganisationType), name="type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.display_name")


class User(Model):
    """A person with an account: their role, organisation and sign-in state."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")
    panel_seats: Mapped[list[PanelMembership]] = relationship(back_populates="user", cascade="all, delete-orphan")
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(back_populates="user", cascade="all, delete-orphan")

    __table_args__ = (
        db.Index("uq_users_email_lower", func.lower(email), unique=True),
        CheckConstraint(allowed("role", Role), name="role"),
    )

    # Flask-Login's interface. The id it keeps in the session and the remember-me cookie is
    # the secret of one `UserSession` (kb.users.sessions puts it there), not anything here.
    @property
    def is_authenticated(self) -> bool:
        """Always true for a loaded user; anonymous visitors are not `User`s."""
        return True

    @property
    def is_active(self) -> bool:
        """Whether the account may sign in."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Never true for a `User`."""
        return False

    def get_id(self) -> str:
        """The account's id; `start_session` replaces it in the session with the session's secret."""
        return str(self.id)

    @property
    def is_staff(self) -> bool:
        """Moderators and admins: they see every entry and need a second factor."""
        return self.role in STAFF_ROLES

    @property
    def has_password(self) -> bool:
        """Whether the person has set a password (an invited user has not yet)."""
        return self.password_hash is not None

    @property
    def organisation_name(self) -> str:
        """The organisation's name, or an empty string."""
        return self.organisation.name if self.organisation else ""

    def rotate_session_token(self) -> None:
        """Cancel a sign-in of this user that is waiting for its second factor."""
        self.session_token = new_session_token()


class PanelMembership(Model):
    """A seat on one review's panel; a user may sit on one panel and not another."""

    __tablename__ = "panel_memberships"
    __table_args__ = (UniqueConstraint("user_id", "review_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="panel_seats")
    review: Mapped[Review] = relationship("Review")


class UserSession(Model):
    """One browser's signed-in session: the digest of its secret, and where and when it was seen.

    The secret itself travels only in that browser's session and remember-me cookies, so
    deleting the row ends the session and every copy of either cookie. `last_seen_at`, the
    address and the browser are written at most every few minutes, not on every request.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")

    user: Mapped[User] = relationship()

    @property
    def browser(self) -> str:
        """A readable name for the browser, such as "Chrome on Windows"."""
        return browser_name(self.user_agent)


class RecoveryCode(Model):
    """A single-use code that stands in for the second factor; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class PendingSecondFactor(Model):
    """A TOTP secret shown to someone setting up their authenticator app, until they confirm it or it expires.

    It stays on the server: the session holds only the random `id`, so the secret never
    travels in a cookie, which is signed but not encrypted.
    """

    __tablename__ = "pending_second_factors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class UserIdentity(Model):
    """An account at an OpenID provider linked to a kb account: single sign-on finds the person by it.

    The provider's `issuer` and the person's `subject` there (the ID token's `iss` and
    `sub`) never change, even when the person's email address does.
    """

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()
