"""Making, revoking and checking personal access tokens.

A token is `kb_` followed by 40 random URL-safe characters. Only its SHA-256 digest is
stored, so a copy of the database opens nothing; a person sees the token once, when they
make it. Checking a token is one indexed lookup by digest. A token acts as its owner, with
the owner's current role and panels, and stops working when it is revoked, expires, or the
owner's account is deactivated. A staff account that has not yet set up its second factor (held
at set-up on pages) opens nothing with a token either. `last_used_at` is written at most once a minute per token,
so a busy client does not turn every read into a write. Making, replacing and revoking a
token is audited by its name and first characters, never the token itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import or_, select

from kb.access.models import AccessToken
from kb.audit.service import record_event
from kb.dates import as_utc, utcnow
from kb.errors import InvalidInputError, NotAllowedError
from kb.extensions import db
from kb.states import Role, TokenKind, TokenScope
from kb.text import one_line
from kb.users.models import User
from kb.users.sessions import setup_needed

TOKEN_PREFIX = "kb_"  # noqa: S105 (the marker every token starts with, not a secret)
SHOWN_PREFIX_LENGTH = 10
"""How many of a token's first characters the account page shows to tell tokens apart."""
MAX_LIVE_TOKENS = 20
"""Live tokens a person may hold at once, of each kind."""
MAX_EXPIRY_DAYS = 366
LAST_USED_PRECISION = dt.timedelta(minutes=1)
LISTED_AFTER_ENDING = dt.timedelta(days=30)
"""How long a revoked or expired token stays in its owner's list (the row is kept for good)."""
MADE: dict[str, str] = {TokenKind.API: "token.issue", TokenKind.FEED: "feed.renew"}
REVOKED: dict[str, str] = {TokenKind.API: "token.revoke", TokenKind.FEED: "feed.revoke"}
"""The audit actions for making and revoking a token of each kind."""


def digest_of(token: str) -> str:
    """The stored form of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def issue_token(
    actor: User,
    *,
    kind: TokenKind,
    name: str,
    scope: TokenScope = TokenScope.READ,
    expires_in_days: int | None = None,
) -> tuple[AccessToken, str]:
    """Make a token for `actor`, audited, and return its row and the token itself (shown once, never stored).

    A feed token only reads. Raises `InvalidInputError` for an empty name, an expiry outside
    1 to 366 days, or too many live tokens of the kind; `NotAllowedError` for an inactive account.
    """
    row, token = _issue(actor, kind=kind, name=name, scope=scope, expires_in_days=expires_in_days)
    record_event(MADE[kind], actor=actor, target=row, new=row.prefix)
    return row, token


def _issue(
    actor: User, *, kind: TokenKind, name: str, scope: TokenScope, expires_in_days: int | None
) -> tuple[AccessToken, str]:
    if not actor.active:
        raise NotAllowedError("This account is not active.")
    label = one_line(name or "").strip()
    if not label:
        raise InvalidInputError("Enter a name for the token, so you can tell it apart later.")
    if len(label) > 80:
        raise InvalidInputError("The token's name must be 80 characters or fewer.")
    if kind == TokenKind.FEED:
        scope = TokenScope.READ
    now = utcnow()
    expires_at = None
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
            raise InvalidInputError(f"A token can last from 1 to {MAX_EXPIRY_DAYS} days.")
        expires_at = now + dt.timedelta(days=expires_in_days)
    if len(live_tokens(actor, kind)) >= MAX_LIVE_TOKENS:
        raise InvalidInputError(f"You have {MAX_LIVE_TOKENS} live tokens of this kind; revoke one first.")
    token = _new_token()
    row = AccessToken(
        user_id=actor.id,
        kind=kind,
        scope=scope,
        name=label,
        prefix=token[:SHOWN_PREFIX_LENGTH],
        digest=digest_of(token),
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def revoke_token(actor: User, token: AccessToken) -> None:
    """Stop `token` working at once, audited. Its owner or an admin may; revoking twice changes nothing."""
    if token.user_id != actor.id and actor.role != Role.ADMIN:
        raise NotAllowedError("You can revoke only your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event(REVOKED[token.kind], actor=actor, target=token, old=token.prefix)
        db.session.flush()


def revoke_all(user: User, kind: TokenKind | None = None) -> int:
    """Revoke every live token of `user` (of `kind` if given); returns how many."""
    now = utcnow()
    count = 0
    for token in live_tokens(user, kind):
        token.revoked_at = now
        count += 1
    db.session.flush()
    return count


def live_tokens(user: User, kind: TokenKind | None = None) -> list[AccessToken]:
    """`user`'s tokens that still work, newest first, of `kind` if given."""
    now = utcnow()
    statement = select(AccessToken).where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
    if kind is not None:
        statement = statement.where(AccessToken.kind == kind)
    rows = db.session.scalars(statement.order_by(AccessToken.id.desc()))
    return [row for row in rows if row.is_live(now)]


def tokens_of(user: User, kind: TokenKind | None = None) -> list[AccessToken]:
    """Every token `user` has made (live, expired and revoked), newest first, of `kind` if given."""
    statement = select(AccessToken).where(AccessToken.user_id == user.id)
    if kind is not None:
        statement = statement.where(AccessToken.kind == kind)
    return list(db.session.scalars(statement.order_by(AccessToken.id.desc())))


def listed_tokens(user: User, kind: TokenKind | None = None) -> list[AccessToken]:
    """`user`'s tokens to list, newest first, of `kind` if given.

    Live tokens, and those revoked or expired in the last `LISTED_AFTER_ENDING` (30 days).
    """
    cutoff = utcnow() - LISTED_AFTER_ENDING
    statement = select(AccessToken).where(
        AccessToken.user_id == user.id,
        or_(AccessToken.revoked_at.is_(None), AccessToken.revoked_at >= cutoff),
        or_(AccessToken.expires_at.is_(None), AccessToken.expires_at >= cutoff),
    )
    if kind is not None:
        statement = statement.where(AccessToken.kind == kind)
    return list(db.session.scalars(statement.order_by(AccessToken.id.desc())))


def authenticate(token: str, kind: TokenKind) -> AccessToken | None:
    """The live token of `kind` whose text this is, with an active owner not held at set-up; None for anything else.

    Marks the token used (at most once a minute); the caller's unit of work commits it.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = db.session.scalars(select(AccessToken).where(AccessToken.digest == digest_of(token))).one_or_none()
    now = utcnow()
    if row is None or row.kind != kind or not row.is_live(now) or not row.user.active:
        return None
    if setup_needed(row.user):
        return None
    if row.last_used_at is None or as_utc(row.last_used_at) < now - LAST_USED_PRECISION:
        row.last_used_at = now
        db.session.flush()
    return row


def new_feed_token(actor: User) -> tuple[AccessToken, str]:
    """Give `actor` a new personal feed address: their earlier feed tokens are revoked, a new one made.

    Returns the row and the token (shown once). Raises as `issue_token` does. One audit event
    records the new address's first characters and those of the ones it replaced.
    """
    replaced = [token.prefix for token in live_tokens(actor, TokenKind.FEED)]
    revoke_all(actor, TokenKind.FEED)
    row, token = _issue(
        actor, kind=TokenKind.FEED, name=TokenKind.FEED.label, scope=TokenScope.READ, expires_in_days=None
    )
    record_event(MADE[TokenKind.FEED], actor=actor, target=row, old=", ".join(replaced) or None, new=row.prefix)
    return row, token
