"""The `user_sessions` rows: opening one per sign-in, finding, listing and ending them.

A session's secret is 32 random bytes that only the browser holds (in its session and
remember-me cookies); the row keeps its SHA-256. Ending a session deletes its row, so the
secret, and any copy of a cookie that carries it, opens nothing from then on. A row also
goes when it expires: `PERMANENT_SESSION_LIFETIME` after sign-in, or
`REMEMBER_COOKIE_DURATION` for "keep me signed in", the life of its remember-me cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from kb.audit.service import record_event
from kb.dates import as_utc, utcnow
from kb.errors import NotFoundError
from kb.extensions import db
from kb.users.models import User, UserSession

SEEN_EVERY = dt.timedelta(minutes=5)
"""How stale a session's "last seen", address and browser may get before a request rewrites them."""
USER_AGENT_LENGTH = 300
ADDRESS_LENGTH = 45


@dataclass(frozen=True)
class SessionRef:
    """What a request knows of its own session: its id, when it was last noted, and "keep me signed in"."""

    id: int
    last_seen_at: dt.datetime
    remember: bool


def digest_of(secret: str) -> str:
    """The stored form of a session's secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(
    user: User, *, remember: bool, user_agent: str, address: str, config: dict[str, Any]
) -> tuple[UserSession, str]:
    """Add a session row for `user` and return it with its secret (which is never stored).

    Expired rows of every account go at the same time: one indexed delete per sign-in.
    """
    now = utcnow()
    purge_expired(now)
    lifetime = config["REMEMBER_COOKIE_DURATION"] if remember else config["PERMANENT_SESSION_LIFETIME"]
    secret = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        digest=digest_of(secret),
        remember=remember,
        created_at=now,
        expires_at=now + lifetime,
        last_seen_at=now,
        user_agent=user_agent[:USER_AGENT_LENGTH],
        ip_address=address[:ADDRESS_LENGTH],
    )
    db.session.add(row)
    db.session.flush()
    return row, secret


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete every session past its expiry; returns how many."""
    result = db.session.execute(
        delete(UserSession).where(UserSession.expires_at <= (now or utcnow())),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def seen(ref: SessionRef, *, user_agent: str, address: str, now: dt.datetime) -> bool:
    """Note that the session was used now, from `address` with `user_agent`, unless it was noted lately.

    Returns whether anything changed (the caller then commits).
    """
    if as_utc(ref.last_seen_at) > now - SEEN_EVERY:
        return False
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == ref.id)
        .values(last_seen_at=now, user_agent=user_agent[:USER_AGENT_LENGTH], ip_address=address[:ADDRESS_LENGTH]),
        execution_options={"synchronize_session": False},
    )
    return True


def live_sessions(user: User, *, idle: dt.timedelta) -> list[UserSession]:
    """`user`'s sessions that can still be used, the most recently seen first.

    A session without "keep me signed in" also ends after `idle` without a request; its row
    is counted as live until then (give or take `SEEN_EVERY`, as last seen is not exact).
    """
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [row for row in rows if row.remember or as_utc(row.last_seen_at) > now - idle - SEEN_EVERY]


def end_session(session_id: int) -> None:
    """End one session: its cookies, and every copy of them, stop working on their next request.

    Ending a session that has ended already changes nothing.
    """
    db.session.execute(delete(UserSession).where(UserSession.id == session_id))
    db.session.flush()


def end_own_session(actor: User, session_id: int) -> str:
    """End one of `actor`'s own sessions by its id; returns its browser's name.

    Raises `NotFoundError` when there is no such session of theirs (ended already, or someone else's).
    """
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != actor.id:
        raise NotFoundError("That session has ended already.")
    browser = row.browser
    record_event("session.end", actor=actor, target=actor, old=browser)
    end_session(row.id)
    return browser


def end_other_sessions(actor: User, keep: SessionRef) -> int:
    """Sign `actor` out everywhere but `keep` (their session here); returns how many sessions ended."""
    count = end_all_sessions(actor, keep=keep)
    record_event("session.end-others", actor=actor, target=actor, new=str(count))
    return count


def end_all_sessions(user: User, *, keep: SessionRef | None = None) -> int:
    """End every session of `user` but `keep`, and any sign-in waiting for a second factor; returns how many."""
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        statement = statement.where(UserSession.id != keep.id)
    result = db.session.execute(statement, execution_options={"synchronize_session": "fetch"})
    user.rotate_session_token()
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
