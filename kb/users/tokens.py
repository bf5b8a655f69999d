"""Signed, expiring, single-use links for invitations and password resets.

A token carries the user's id, its purpose and a fingerprint of the user's current
password hash. Setting a password changes the fingerprint, so every earlier token of
either purpose stops working: each link works once. Nothing is stored for a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from kb.errors import InvalidInputError

PURPOSES = ("invite", "reset", "emergency")


class TokenError(InvalidInputError):
    """A link that cannot be used; the message says why, in words for the person."""


@dataclass(frozen=True)
class TokenClaim:
    """What a valid token says: whose it is and what it is for."""

    user_id: int
    purpose: str


def password_fingerprint(password_hash: str | None) -> str:
    """A short digest of the current password hash ('' before a password is set)."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="kb-account-link")


def make_token(secret_key: str, user_id: int, purpose: str, password_hash: str | None) -> str:
    """A signed token for `purpose` (`invite`, `reset`, `emergency`) tied to the user's current password hash.

    An emergency sign-in link passes the user's session token instead, so signing in with it ends it.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return _serializer(secret_key).dumps({"u": user_id, "p": purpose, "f": password_fingerprint(password_hash)})


def read_token(secret_key: str, token: str, purpose: str, max_age: dt.timedelta) -> tuple[TokenClaim, str]:
    """Check a token's signature, purpose and age; returns the claim and its fingerprint.

    The caller compares the fingerprint with the user's current password to refuse a
    link that has been used. Raises `TokenError` with a message for the person.
    """
    try:
        data = _serializer(secret_key).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise TokenError("This link has expired. Ask for a new one.") from None
    except BadSignature:
        raise TokenError("This link is not valid. Check that you copied all of it, or ask for a new one.") from None
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("u"), int):
        raise TokenError("This link is not valid. Check that you copied all of it, or ask for a new one.")
    return TokenClaim(data["u"], purpose), str(data.get("f", ""))
