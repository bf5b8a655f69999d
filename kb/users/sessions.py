"""Signed-in sessions: how a request finds its user, and when a session ends.

- Each sign-in opens its own `UserSession` (kb.users.session_store). Flask-Login keeps that
  session's secret in the session cookie and in the remember-me cookie; a request finds its
  session and user by the secret's digest in one query. Signing out ends this session only;
  a password change ends every other one, a reset, deactivation and a role change end them
  all. An ended session's row is gone, so every copy of either cookie stops working on its
  very next request. Where and when a session was last seen is written every few minutes.
- Signing in clears the old session first, so the session cookie's content is new; it
  keeps only the tokens of the drafts this browser posted signed out (`kb.drafts.keeping`).
- A session ends after `SESSION_IDLE` without a request (60 minutes by default) and
  `PERMANENT_SESSION_LIFETIME` after sign-in (12 hours) whatever happens. "Keep me
  signed in" sets a remember-me cookie for `REMEMBER_COOKIE_DURATION` (14 days) that
  starts a new session when the old one has ended.
- A form post that arrives after the session has ended is sent to sign in again, except
  to a view marked `keeps_text_when_signed_out` (every long form, see `kb.drafts.keeping`):
  that view runs signed out and keeps what was typed as a draft of the person whose
  session it was (`g.signed_out_user_id`) before asking for a sign-in.
- Sent to sign in by `login_required`, a GET comes back to its page afterwards; any
  other request to the page it came from, never to an address that takes only posts.
- A moderator or admin without a second factor, or with a password shorter than their
  role needs, can use nothing but the set-up pages until that is put right.
"""

from __future__ import annotations

import time
from typing import Any, cast
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user, user_loaded_from_cookie
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from kb.dates import utcnow
from kb.drafts.models import KEPT_HERE, SAVED_HERE
from kb.extensions import db, login_manager
from kb.permissions import ANONYMOUS, viewer_for
from kb.users import session_store
from kb.users.models import User, UserSession
from kb.users.session_store import SessionRef

SETUP_ENDPOINTS = frozenset({"auth.two_factor_setup", "auth.change_password", "auth.logout", "static", "nhsuk_asset"})


_SESSION_BY_DIGEST = (
    select(User, UserSession.id, UserSession.last_seen_at, UserSession.remember)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.digest == bindparam("digest"), UserSession.expires_at > bindparam("now"), User.active.is_(True))
    .options(joinedload(User.panel_seats))
)
"""Built once (SQLAlchemy keeps a statement's cache key, so each request skips building it),
with the user, their panel seats and the few columns of the session a request needs in the
same query: one round trip a request."""


def _load_user(secret: str) -> User | None:
    """Flask-Login's loader: the active user of the live session whose secret this is."""
    found = db.session.execute(_SESSION_BY_DIGEST, {"digest": session_store.digest_of(secret), "now": utcnow()})
    row = found.unique().one_or_none()
    if row is None:
        # An ended session: forget its secret and drop the remember-me cookie, so later requests
        # of this browser neither look it up again nor carry a cookie that opens nothing.
        session.pop("_user_id", None)
        session["_remember"] = "clear"
        return None
    user, session_id, last_seen_at, remember = row
    g.user_session = SessionRef(session_id, last_seen_at, remember)
    return user


def current_session() -> SessionRef | None:
    """The session of this browser (its id and a little more), once the signed-in user is loaded in this request."""
    return cast("SessionRef | None", g.get("user_session"))


def _client() -> dict[str, str]:
    return {"user_agent": request.headers.get("User-Agent", ""), "address": request.remote_addr or ""}


SETUP_PAGES = {"password": "auth.change_password", "two-factor": "auth.two_factor_setup"}


def clear_session() -> None:
    """Empty the session but for what this browser's drafts need: the ones it kept and whether it saved any."""
    kept = {key: session[key] for key in (KEPT_HERE, SAVED_HERE) if session.get(key)}
    session.clear()
    session.update(kept)


def start_session(user: User, *, remember: bool, password_long_enough: bool = True) -> None:
    """Sign `user` in on a new session of their own (ending this browser's earlier one) and commit it.

    `password_long_enough` is false for staff with a short one.
    """
    earlier = current_session()
    if earlier is not None:
        session_store.end_session(earlier.id)
    row, secret = session_store.open_session(user, remember=remember, config=current_app.config, **_client())
    db.session.commit()
    g.user_session = SessionRef(row.id, row.last_seen_at, remember)
    clear_session()
    login_user(user, remember=remember, fresh=True)
    session["_user_id"] = secret  # the session's secret, in the session and the remember-me cookie
    now = int(time.time())
    session["signed_in_at"] = now
    session["seen_at"] = now
    session["setup"] = setup_needed(user, password_long_enough=password_long_enough)


def finish_setup(step: str) -> None:
    """Mark a set-up step (`password` or `two-factor`) as done for this session."""
    session["setup"] = [pending for pending in session.get("setup", []) if pending != step]


def end_session() -> None:
    """Sign out in this browser: its session ends, so copies of its cookies stop working (the caller commits)."""
    row = current_session()
    if row is not None:
        session_store.end_session(row.id)
        g.user_session = None
    session.clear()
    logout_user()  # after clearing: it leaves the note that deletes the remember-me cookie


def setup_needed(user: User, *, password_long_enough: bool = True) -> list[str]:
    """What a staff account must set up before it can do anything else, in order."""
    steps = []
    if not password_long_enough:
        steps.append("password")
    if user.is_staff and user.totp_secret is None:
        steps.append("two-factor")
    return steps


def _session_expired(now: int, config: dict[str, Any]) -> str | None:
    signed_in = session.get("signed_in_at")
    seen = session.get("seen_at")
    if signed_in is None or seen is None:
        return "Please sign in again."
    if now - seen > config["SESSION_IDLE"].total_seconds():
        minutes = int(config["SESSION_IDLE"].total_seconds() // 60)
        return f"You were signed out after {minutes} minutes without activity. Please sign in again."
    if now - signed_in > config["PERMANENT_SESSION_LIFETIME"].total_seconds():
        return "Your session has reached its time limit. Please sign in again."
    return None


def _restart_from_cookie(_app: Flask, user: User) -> None:
    """A remember-me cookie started a new session: its clocks start now."""
    now = int(time.time())
    session["signed_in_at"] = now
    session["seen_at"] = now
    session["setup"] = setup_needed(user)


def _keeps_text(endpoint: str | None) -> bool:
    """Whether a view saves what a signed-out visitor posted (marked `keeps_text_when_signed_out`)."""
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, "keeps_text_when_signed_out", False))


def _end_ran_out_session() -> None:
    """End the row of this browser's session that ran out, so no copy of its cookies opens it later."""
    row = current_session()
    if row is not None:
        session_store.end_session(row.id)
        g.user_session = None
        db.session.commit()


def _before_request() -> Response | None:
    """Find the viewer, end sessions that have run out, and hold staff at set-up."""
    g.viewer = ANONYMOUS
    if request.endpoint in ("static", "nhsuk_asset"):
        return None
    if not current_user.is_authenticated:
        return None
    now = int(time.time())
    reason = _session_expired(now, current_app.config)
    if reason is not None:
        remembered = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
        clear_session()
        if remembered and request.method == "GET":
            # "Keep me signed in": the cookie starts a new session on the next request.
            return redirect(request.full_path)
        _end_ran_out_session()
        if request.method == "POST" and _keeps_text(request.endpoint):
            # The view keeps what was typed as this person's draft, then asks for a sign-in.
            g.signed_out_user_id = current_user.id
            logout_user()
            flash(reason, "info")
            return None
        logout_user()
        flash(reason, "info")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session["seen_at"] = now
    row = current_session()
    if row is not None and session_store.seen(row, now=utcnow(), **_client()):
        db.session.commit()
    pending = session.get("setup")
    if pending and request.endpoint not in SETUP_ENDPOINTS:
        return redirect(url_for(SETUP_PAGES[pending[0]]))
    g.viewer = viewer_for(current_user._get_current_object())
    return None


def _back_after_sign_in() -> str | None:
    """Where to come back to after signing in: a GET's own address, else the page on this site it came from."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path.startswith("/") or referrer.path.startswith("//"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def _unauthorized() -> Response:
    """`login_required` met someone signed out: the sign-in page, then back (never to a post-only address)."""
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("auth.login", next=_back_after_sign_in()))


def init_app(app: Flask) -> None:
    """Bind Flask-Login and the per-request session checks to `app`."""
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(_unauthorized)
    # Second-factor settings need a password typed in this session, not a remember-me cookie.
    login_manager.refresh_view = "auth.login"
    login_manager.needs_refresh_message = "Please sign in again to change your two-step verification."
    login_manager.needs_refresh_message_category = "info"
    user_loaded_from_cookie.connect(_restart_from_cookie, app)
    app.before_request(_before_request)
