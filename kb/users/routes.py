"""Signing in and out, the second step of a sign-in, passwords, invitations and resets."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_fresh, login_required
from werkzeug.wrappers import Response
from wtforms import Field

from kb.audit.service import record_event
from kb.extensions import db, limiter
from kb.security import CONTENT_SECURITY_POLICY
from kb.users import service, sso, throttle, two_factor
from kb.users.forms import ChangePasswordForm, EmailForm, LoginForm, SecondFactorForm, SetPasswordForm
from kb.users.models import User
from kb.users.passwords import MEMBER_MIN_LENGTH, STAFF_MIN_LENGTH
from kb.users.sessions import current_session, end_session, start_session

blueprint = Blueprint("auth", __name__)

PENDING_SECOND_FACTOR_SECONDS = 300
THROTTLED_MESSAGE = (
    "Too many sign-in attempts. For your safety, signing in is paused for a few minutes. "
    "Wait, then try again; if you have forgotten your password, reset it."
)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: `next=` never leads elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in target):
        return None
    return target


def _account_key() -> str:
    """The account a sign-in attempt is for, as failures are counted: the typed email, normalised."""
    return service.normalise_email(request.form.get("email", ""))[:254]


def _pending_key() -> str:
    """The rate-limit key for second-factor attempts on one account (a digest, not the token)."""
    pending = session.get("pending_login") or {}
    digest = hashlib.sha256(str(pending.get("token", "none")).encode()).hexdigest()[:24]
    return f"second-factor:{digest}"


def _attempt_failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _throttled_limit(setting: str) -> str:
    return current_app.config[setting]


def refuse(field: Field, message: str) -> str:
    """Show `message` as `field`'s error (inline, and in the summary linking to it); returns the message."""
    field.errors = [*field.errors, message]
    return message


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Sign in with email and password; whoever has a second factor goes on to it.

    Wrong passwords are throttled per account and address, and per account from unknown
    browsers (kb/users/throttle.py); a refused attempt says when to try again.
    """
    next_path = safe_next(request.values.get("next"))
    if current_user.is_authenticated and login_fresh():
        return redirect(next_path or url_for("entries.home"))
    form = LoginForm()
    message = None
    refusal = None
    if request.method == "POST" and not current_app.config["LOCAL_PASSWORDS"]:
        problem = f"Passwords are not used on this site. Use “{current_app.config['OIDC_BUTTON_LABEL']}”."
        return login_page(form, next_path, 403, problem)
    if form.validate_on_submit():
        account = _account_key()
        known = throttle.is_known_device(request.cookies.get(throttle.DEVICE_COOKIE), account)
        refusal = throttle.count_attempt(get_remote_address()) or throttle.check(
            account, get_remote_address(), known_device=known
        )
        user = None if refusal else service.authenticate(form.email.data or "", form.password.data or "")
        if refusal is not None:
            message = refuse(form.email, throttle.wait_message(refusal))
        elif user is None:
            message = "The email address or password is not right."
            refusal = throttle.record_failure(account, get_remote_address(), known_device=known)
            if refusal is not None:
                message = f"{message} {throttle.wait_message(refusal)}"
                refusal = None  # this attempt was answered; the next one waits
            refuse(form.email, message)
            db.session.commit()
        else:
            long_enough = not user.is_staff or len(form.password.data or "") >= STAFF_MIN_LENGTH
            if user.totp_secret:
                session["pending_login"] = {
                    "token": user.session_token,
                    "remember": bool(form.remember.data),
                    "next": next_path,
                    "at": int(time.time()),
                    "long_enough": long_enough,
                }
                return redirect(url_for("auth.second_factor"))
            return complete_login(user, remember=bool(form.remember.data), next_path=next_path, long_enough=long_enough)
    status = 429 if refusal else 401 if message else (400 if form.errors else 200)
    response = login_page(form, next_path, status)
    if refusal is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def login_page(form: LoginForm, next_path: str | None, status: int, problem: str | None = None) -> Response:
    """The sign-in page: the single sign-on button when there is a provider, the password form unless switched off.

    `problem` is a refusal that is about no field of the form (single sign-on's, for one).
    """
    page = render_template(
        "auth/login.html",
        form=form,
        problem=problem,
        next=next_path,
        demo_roles=_demo_accounts(),
        sso_label=current_app.config["OIDC_BUTTON_LABEL"] if current_app.config["OIDC_DISCOVERY_URL"] else None,
        local_passwords=current_app.config["LOCAL_PASSWORDS"],
    )
    response = current_app.make_response((page, status))
    if current_app.config["OIDC_DISCOVERY_URL"]:
        # The button's post is answered with a redirect to the provider: the page's form-action must allow it.
        allowed = " ".join(["form-action 'self'", *sso.form_origins()])
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace("form-action 'self'", allowed)
    return response


def _passwords_only() -> None:
    """A 404 for the password pages (reset, invitation, change) when `LOCAL_PASSWORDS` is off."""
    if not current_app.config["LOCAL_PASSWORDS"]:
        abort(404)


def complete_login(
    user: User, *, remember: bool, next_path: str | None, long_enough: bool, method: str | None = None
) -> Response:
    """Finish a sign-in (after any second factor): audit it, start the session, remember this browser."""
    service.record_login(user, method)
    db.session.commit()
    account = service.normalise_email(user.email)
    known = throttle.is_known_device(request.cookies.get(throttle.DEVICE_COOKIE), account)
    throttle.record_success(account, get_remote_address(), known_device=known)
    start_session(user, remember=remember, password_long_enough=long_enough)
    if not long_enough:
        flash(
            f"Moderators and admins need a password of at least {STAFF_MIN_LENGTH} characters. Choose a new one.",
            "info",
        )
    response = redirect(next_path or url_for("entries.home"))
    # This browser is now known to the account: strangers' failures elsewhere never shut it out.
    response.set_cookie(
        throttle.DEVICE_COOKIE,
        throttle.device_cookie_value(account),
        max_age=throttle.DEVICE_MAX_AGE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
    )
    return response


def _pending_user() -> tuple[User, dict] | None:
    pending = session.get("pending_login")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECOND_FACTOR_SECONDS:
        return None
    user = db.session.scalar(db.select(User).where(User.session_token == pending["token"], User.active.is_(True)))
    return (user, pending) if user is not None else None


@blueprint.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(
    lambda: _throttled_limit("LOGIN_LIMIT_PER_ACCOUNT"),
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_attempt_failed,
    error_message=THROTTLED_MESSAGE,
)
def second_factor() -> str | Response | tuple[str, int]:
    """The second step for moderators and admins: a code from their app or a recovery code."""
    found = _pending_user()
    if found is None:
        session.pop("pending_login", None)
        flash("Your sign-in took too long or was interrupted. Please sign in again.", "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    form = SecondFactorForm()
    message = None
    if form.validate_on_submit():
        if two_factor.verify_second_factor(user, form.code.data or ""):
            session.pop("pending_login", None)
            return complete_login(
                user,
                remember=pending["remember"],
                next_path=pending["next"],
                long_enough=pending["long_enough"],
                method=pending.get("method"),
            )
        g.login_failed = True
        record_event("login.failure", actor=user, target=user, new="second factor")
        db.session.commit()
        message = refuse(
            form.code, "That code is not right, or has been used already. Enter the newest code from your app."
        )
    status = 401 if message else (400 if form.errors else 200)
    return render_template("auth/second_factor.html", form=form, message=message), status


@blueprint.post("/logout")
def logout() -> Response:
    """Sign out in this browser only; copies of its cookies stop working, other sessions go on."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        record_event("logout", actor=user, target=user)
    end_session()
    db.session.commit()
    flash("You have signed out.", "success")
    return redirect(url_for("entries.home"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    """Change one's password, giving the current one; other sessions end."""
    _passwords_only()
    user: User = current_user._get_current_object()
    form = ChangePasswordForm()
    message = None
    if form.validate_on_submit():
        here = current_session()
        remember = here.remember if here is not None else False
        try:
            service.change_password(user, form.current.data or "", form.password.data or "")
        except service.AccountError as error:
            message = refuse(getattr(form, error.field or "password"), str(error))
        else:
            db.session.commit()
            # This browser stays signed in on a new session, so a copy of its old cookies dies too.
            pending = [step for step in session.get("setup", []) if step != "password"]
            start_session(user, remember=remember)
            session["setup"] = pending
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/change_password.html", form=form, message=message, minimum=_minimum_for(user)
    ), 400 if message or form.errors else 200


def _minimum_for(user: User) -> int:
    return STAFF_MIN_LENGTH if user.is_staff else MEMBER_MIN_LENGTH


@blueprint.route("/account/reset", methods=["GET", "POST"])
@limiter.limit(lambda: _throttled_limit("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"], error_message=THROTTLED_MESSAGE)
def reset_request() -> str | Response | tuple[str, int]:
    """Ask for a reset link; the answer is the same whether or not the email has an account."""
    _passwords_only()
    form = EmailForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data or "")
        db.session.commit()
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_template("auth/reset_request.html", form=form), 400 if form.errors else 200


def _set_password_page(token: str, purpose: str) -> str | Response | tuple[str, int]:
    _passwords_only()
    try:
        user = service.user_for_token(token, purpose)
    except service.AccountError as error:
        return render_template("auth/link_problem.html", message=str(error), purpose=purpose), 410
    form = SetPasswordForm()
    message = None
    if form.validate_on_submit():
        try:
            if purpose == "invite":
                service.accept_invite(token, form.password.data or "")
            else:
                service.reset_password(token, form.password.data or "")
        except service.AccountError as error:
            message = refuse(getattr(form, error.field or "password"), str(error))
        else:
            db.session.commit()
            end_session()
            flash("Your password is set. Sign in with it now.", "success")
            return redirect(url_for("auth.login"))
    return render_template(
        "auth/set_password.html", form=form, message=message, user=user, purpose=purpose, minimum=_minimum_for(user)
    ), 400 if message or form.errors else 200


@blueprint.route("/account/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> str | Response | tuple[str, int]:
    """An invited person chooses their password (the link works once)."""
    return _set_password_page(token, "invite")


@blueprint.route("/account/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    """Choose a new password through an emailed link (it works once, within the hour)."""
    return _set_password_page(token, "reset")


def _demo_accounts() -> list[User]:
    if not current_app.config["DEMO_MODE"]:
        return []
    return list(db.session.scalars(db.select(User).where(User.is_demo.is_(True)).order_by(User.id)))


@blueprint.post("/login/demo/<int:user_id>")
def demo_login(user_id: int) -> Response:
    """Demo mode only: sign in as one of the sample accounts without a password."""
    if not current_app.config["DEMO_MODE"]:
        abort(404)
    user = db.session.get(User, user_id)
    if user is None or not user.is_demo or not user.active:
        abort(404)
    service.record_login(user)
    db.session.commit()
    start_session(user, remember=False)
    session["setup"] = []
    flash(f"You are signed in as the demo {user.role}, {user.display_name}.", "success")
    return redirect(safe_next(request.form.get("next")) or url_for("entries.home"))
