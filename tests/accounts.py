"""Test helpers for accounts: make users with roles and panel seats, and sign a client in.

`login_as` opens a session row and writes the cookie session a real sign-in would leave
(Flask-Login's user id is that session's secret), so tests of what a role sees need no
password or second factor.
The sign-in flow itself is tested through its forms in `tests/web/test_auth.py`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from html import unescape

import pyotp
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from kb.entries.models import Review
from kb.extensions import db
from kb.users.models import Organisation, PanelMembership, User
from kb.users.passwords import hash_password
from kb.users.session_store import open_session

PASSWORD = "correct horse battery staple"
# scrypt takes a sixth of a second on purpose; tests make many users with the same few
# passwords, so each password is hashed once and its (real, salted) hash reused.
_HASHES: dict[str, str] = {}


def password_hash(password: str) -> str:
    """A real scrypt hash of `password`, made once per password for the whole test session."""
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


def organisation(name: str = "Test out-of-hours provider", type_: str = "out-of-hours-provider") -> Organisation:
    """The organisation with this name, created if missing (flushed, not committed)."""
    found = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        found = Organisation(name=name, type=type_, region="South West")
        db.session.add(found)
        db.session.flush()
    return found


def make_user(
    email: str,
    *,
    role: str = "member",
    name: str | None = None,
    password: str | None = PASSWORD,
    panels: tuple[Review, ...] = (),
    totp_secret: str | None = None,
    active: bool = True,
) -> User:
    """Add and commit a user; staff get a TOTP secret unless one is given."""
    user = User(
        email=email,
        display_name=name or email.split("@")[0].replace("-", " ").title(),
        role=role,
        active=active,
        password_hash=password_hash(password) if password else None,
    )
    db.session.add(user)
    user.organisation = organisation()
    if role in ("moderator", "admin"):
        user.totp_secret = totp_secret or pyotp.random_base32()
    elif totp_secret:
        user.totp_secret = totp_secret
    user.panel_seats = [PanelMembership(review_id=review.id) for review in panels]
    db.session.commit()
    return user


def login_as(client: FlaskClient, user: User) -> FlaskClient:
    """Give `client` the session a completed sign-in as `user` would (committing its session row)."""
    _row, secret = open_session(
        user, remember=False, user_agent="Test client", address="127.0.0.1", config=current_app.config
    )
    db.session.commit()
    now = int(time.time())
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = secret
        session["_fresh"] = True
        session["signed_in_at"] = now
        session["seen_at"] = now
        session["setup"] = []
    return client


def client_for(app: Flask, user: User | None = None) -> FlaskClient:
    """A fresh test client on `app`, signed in as `user` when one is given."""
    client = app.test_client()
    return login_as(client, user) if user is not None else client


def page_text(response: TestResponse) -> str:
    """A response's HTML with entities decoded, for looking for text as a reader sees it."""
    return unescape(response.get_data(as_text=True))


def current_code(user: User) -> str:
    """The authenticator code a staff member's phone shows now."""
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).now()


@dataclass
class Cast:
    """One person per way of seeing: the roles, two panels, and a member who writes."""

    member: User
    panel: User
    other_panel: User
    author: User
    moderator: User
    admin: User
    review: Review
    other_review: Review


def make_cast() -> Cast:
    """Users for every role on the seeded database: `panel` sits on the first review's panel."""
    reviews = list(db.session.scalars(select(Review).order_by(Review.title)))
    assert len(reviews) >= 2, "the seed content needs two reviews"
    return Cast(
        member=make_user("member@example.org"),
        panel=make_user("panel@example.org", panels=(reviews[0],)),
        other_panel=make_user("other-panel@example.org", panels=(reviews[1],)),
        author=make_user("author@example.org"),
        moderator=make_user("moderator@example.org", role="moderator"),
        admin=make_user("admin@example.org", role="admin"),
        review=reviews[0],
        other_review=reviews[1],
    )


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in `html`."""
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, str], *, page: str | None = None, **kwargs: object):
    """GET `page` (default `path`) for a CSRF token, then POST `data` with it to `path`."""
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str):
    """Sign in through the real form; returns the response."""
    return post_form(client, "/login", {"email": email, "password": password, **extra})
