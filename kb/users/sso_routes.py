"""Single sign-on's two addresses: the button's post that leaves for the provider, and the way back.

An admin's emergency link (`flask --app kb users emergency-link`) signs in here too.

The button is a form posted with its CSRF token rather than a link: starting a sign-in writes
the state, nonce and PKCE verifier into the session, and no other site, prefetcher or crawler
can make a browser do that. The way back is a GET, as the provider sends it; its state
parameter ties it to the browser that left. Refusals show the sign-in page with the reason.
"""

from __future__ import annotations

import time
from typing import Any

from flask import abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from kb.errors import unit_of_work
from kb.users import service, sso
from kb.users.forms import ConfirmForm, LoginForm
from kb.users.models import User
from kb.users.routes import blueprint, complete_login, login_page, safe_next

NEXT_KEY = "sso_next"
METHOD = "single sign-on"


def _refused(error: sso.SsoError) -> Response:
    return login_page(LoginForm(), session.pop(NEXT_KEY, None), error.status, str(error))


@blueprint.post("/login/sso")
def sso_start() -> Response:
    """Leave for the provider's sign-in page; the page to come back to waits in the session."""
    if not sso.enabled():
        abort(404)
    session[NEXT_KEY] = safe_next(request.form.get("next"))
    try:
        return sso.authorize_redirect()
    except sso.SsoError as error:
        return _refused(error)


@blueprint.get("/login/sso/callback")
def sso_callback() -> Response:
    """The provider's answer: check it, find or make the account, then sign in as a password does.

    Whoever has a second factor goes on to it; staff without one are held at setting it up.
    """
    if not sso.enabled():
        abort(404)
    claims: dict[str, Any] | None = None
    try:
        issuer, claims = sso.claims_from_callback()
        with unit_of_work():
            user = sso.account_for(issuer, claims)
    except sso.SsoError as error:
        with unit_of_work():
            sso.record_refusal(error, claims)
        return _refused(error)
    return _finish(user, session.pop(NEXT_KEY, None), METHOD)


def _finish(user: User, next_path: str | None, method: str) -> Response:
    """Sign in as a password does: on to the second factor if there is one, else straight in."""
    if user.totp_secret:
        session["pending_login"] = {
            "token": user.session_token,
            "remember": False,
            "next": next_path,
            "at": int(time.time()),
            "long_enough": True,
            "method": method,
        }
        return redirect(url_for("auth.second_factor"))
    return complete_login(user, remember=False, next_path=next_path, long_enough=True, method=method)


@blueprint.route("/login/emergency/<token>", methods=["GET", "POST"])
def emergency_sign_in(token: str) -> str | Response | tuple[str, int]:
    """An admin's one-time link for when the provider is down: a button, so a link preview cannot use it up."""
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            with unit_of_work():
                user = sso.use_emergency_link(token)
            return _finish(user, None, "emergency link")
        user = sso.emergency_user(token)
    except service.AccountError as error:
        return render_template("auth/link_problem.html", message=str(error), purpose="emergency"), 410
    return render_template("auth/emergency.html", user=user, form=form, token=token)
