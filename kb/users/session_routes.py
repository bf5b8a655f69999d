"""Signing out one's other sessions from the account page: one of them, or all but this one.

The list itself is part of `/account` (kb.users.routes). Both views take only posts with
a CSRF token and answer with the account page again.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from kb.errors import unit_of_work
from kb.users import session_store
from kb.users.models import User
from kb.users.routes import blueprint
from kb.users.sessions import current_session


@blueprint.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> Response:
    """Sign out one of the person's sessions (a missing or someone else's session is a 404)."""
    user: User = current_user._get_current_object()
    with unit_of_work():
        browser = session_store.end_own_session(user, session_id)
    flash(f"You have signed out of {browser}.", "success")
    return redirect(url_for("auth.account", _anchor="sessions"))


@blueprint.post("/account/sessions/end-others")
@login_required
def end_other_sessions() -> Response:
    """Sign out everywhere but in this browser."""
    user: User = current_user._get_current_object()
    here = current_session()
    if here is None:  # signed in with no session row: nothing to keep apart from the rest
        return redirect(url_for("auth.account"))
    with unit_of_work():
        count = session_store.end_other_sessions(user, here)
    flash(f"You have signed out everywhere else ({count} session{'' if count == 1 else 's'}).", "success")
    return redirect(url_for("auth.account", _anchor="sessions"))
