"""The account page (details, panels, sessions) and setting up the second factor, on the `auth` blueprint."""

from __future__ import annotations

from flask import abort, current_app, render_template, session
from flask_login import current_user, fresh_login_required, login_required
from werkzeug.wrappers import Response

from kb.extensions import db
from kb.users import service, two_factor
from kb.users.forms import ConfirmForm, SecondFactorForm
from kb.users.models import User
from kb.users.routes import blueprint, refuse
from kb.users.session_store import live_sessions
from kb.users.sessions import current_session, finish_setup

PENDING_TOTP = "totp_setup"
"""Session key: the id of the second factor being set up (the secret itself stays on the server)."""


@blueprint.route("/account")
@login_required
def account() -> str:
    """The signed-in person's details, role, panels, security settings and where they are signed in."""
    user: User = current_user._get_current_object()
    here = current_session()
    return render_template(
        "auth/account.html",
        user=user,
        sessions=live_sessions(user, idle=current_app.config["SESSION_IDLE"]),
        this_session_id=here.id if here is not None else None,
        recovery_left=two_factor.unused_recovery_codes(user),
        form=ConfirmForm(),
    )


@blueprint.route("/account/two-factor", methods=["GET", "POST"])
@fresh_login_required
def two_factor_setup() -> str | Response | tuple[str, int]:
    """Set up an authenticator app; shows recovery codes once it is confirmed."""
    user: User = current_user._get_current_object()
    # The secret stays on the server; the session holds only the set-up's random id.
    pending = two_factor.pending_second_factor(user, session.get(PENDING_TOTP))
    session[PENDING_TOTP] = pending.id
    secret = pending.secret
    form = SecondFactorForm()
    message = None
    if form.validate_on_submit():
        try:
            codes = two_factor.enable_totp(user, pending, form.code.data or "")
        except service.AccountError as error:
            message = refuse(form.code, str(error))
        else:
            db.session.commit()
            session.pop(PENDING_TOTP, None)
            finish_setup("two-factor")
            return render_template("auth/recovery_codes.html", codes=codes)
    db.session.commit()
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        message=message,
        enrolment=two_factor.totp_enrolment(user, secret),
        replacing=user.totp_secret is not None,
    ), 400 if message or form.errors else 200


@blueprint.post("/account/recovery-codes")
@fresh_login_required
def new_recovery_codes() -> str:
    """Replace every recovery code with a fresh set, shown once."""
    user: User = current_user._get_current_object()
    if user.totp_secret is None:
        abort(404)
    codes = two_factor.replace_recovery_codes(user)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes)
