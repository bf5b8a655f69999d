"""Verbs on accounts: invite, sign in, set and reset passwords, roles, panels, organisations.

Second factors are in `kb.users.two_factor`, demo accounts in `kb.users.demo`.

Services change models, queue mail and audit events, and flush; the caller commits once.
Each raises `AccountError` with a message meant for the person, or `PermissionDeniedError`
when the actor may not do it.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import func, select

from kb.audit.service import record_event
from kb.dates import utcnow
from kb.entries.models import Review
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.mail import Mail, queue_mail, send_after_response, site_link
from kb.permissions import require
from kb.states import Role
from kb.users import identity
from kb.users.models import (
    ROLES,
    STAFF_ROLES,
    Organisation,
    PanelMembership,
    User,
)
from kb.users.passwords import hash_password, password_problems, verify_password
from kb.users.session_store import end_all_sessions
from kb.users.tokens import TokenError, make_token, password_fingerprint, read_token

INVITE_PATH = "/account/invite/"
RESET_PATH = "/account/reset/"


class AccountError(InvalidInputError):
    """Something the person asked for cannot be done; the message says why, `field` which form field it is about."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def checked_email(email: str) -> str:
    """A new account's address, validated and normalised; raises `AccountError` (field `email`).

    Refused: what `identity.check_email` refuses, an address already in use, and one a
    reader could take for an existing account's address (look-alike letters).
    """
    typed = email.strip()
    try:
        email = identity.check_email(email)
    except identity.IdentityError as error:
        raise AccountError(str(error), field="email") from None
    if find_user_by_email(email) is not None:
        raise AccountError(f"There is already an account for {typed}.", field="email")
    twin = identity.look_alike(email, list(db.session.scalars(select(User.email))))
    if twin is not None:
        raise AccountError(
            f"{email} looks the same as the address of an existing account, {twin}: it differs only in "
            "characters that look alike (letters from another alphabet, or 0 and o, 1 and l). "
            "Check the address, typing it rather than pasting it.",
            field="email",
        )
    return email


def checked_name(name: str, what: str, field: str) -> str:
    """A display or organisation name as one clean line; raises `AccountError` about `field`."""
    try:
        return identity.check_name(name, what)
    except identity.IdentityError as error:
        raise AccountError(str(error), field=field) from None


def normalise_email(email: str) -> str:
    """An email as kb compares it: trimmed, lower case."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The account with this email, whatever its case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def invite_link(user: User) -> str:
    """The one-time link where an invited person sets their password."""
    token = make_token(current_app.config["SECRET_KEY"], user.id, "invite", user.password_hash)
    return site_link(INVITE_PATH + token)


def reset_link(user: User) -> str:
    """The one-time link where a person chooses a new password."""
    token = make_token(current_app.config["SECRET_KEY"], user.id, "reset", user.password_hash)
    return site_link(RESET_PATH + token)


def _check_password(user: User, password: str, role: str | None = None) -> None:
    problems = password_problems(
        password, staff=(role or user.role) in STAFF_ROLES, identity=(user.email, user.display_name)
    )
    if problems:
        raise AccountError(" ".join(problems))


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    end_all_sessions(user)


def create_user(
    email: str, display_name: str, *, role: str = "member", organisation: Organisation | None = None
) -> User:
    """Add an account with no password yet.

    Raises `AccountError` for an unknown role, an address that is not valid, taken or a
    look-alike of a taken one (`checked_email`), or a name that is not one clean line.
    """
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}'. Roles: {', '.join(ROLES)}.", field="role")
    email = checked_email(email)
    name = checked_name(display_name or email.split("@")[0], "The name", "display_name")
    user = User(email=email, display_name=name, role=role, organisation=organisation)
    db.session.add(user)
    db.session.flush()
    return user


def _first_step(user: User, how_long: str) -> str:
    """What an invitation asks of the person: choose a password, or (passwords off) sign in by single sign-on."""
    if not current_app.config["LOCAL_PASSWORDS"]:
        return f"Sign in here with \u201c{current_app.config['OIDC_BUTTON_LABEL']}\u201d:\n\n{site_link('/login')}"
    return f"Choose your password here ({how_long}):\n\n{invite_link(user)}"


def invite_user(email: str, display_name: str, *, role: str, organisation: Organisation | None, actor: User) -> User:
    """Create an account and mail its one-time set-password link (sent after the commit)."""
    require(actor, "users.manage")
    user = create_user(email, display_name, role=role, organisation=organisation)
    days = current_app.config["INVITE_MAX_AGE"].days
    queue_mail(
        Mail(
            to=user.email,
            subject=f"You are invited to {current_app.config['SITE_NAME']}",
            body=(
                f"Hello {user.display_name},\n\n"
                f"{actor.display_name} has invited you to {current_app.config['SITE_NAME']}, "
                "the alliance's lessons-learned knowledge base.\n\n"
                f"{_first_step(user, f'the link works once, for {days} days')}\n\n"
                "If you did not expect this, you can ignore this message.\n"
            ),
        )
    )
    record_event("invite.send", actor=actor, target=user, new=role)
    return user


def resend_invite(user: User, *, actor: User) -> None:
    """Mail a fresh invitation to someone who has not set a password yet."""
    require(actor, "users.manage")
    if user.has_password:
        raise AccountError(f"{user.email} has already accepted their invitation.")
    queue_mail(
        Mail(
            to=user.email,
            subject=f"Your invitation to {current_app.config['SITE_NAME']}",
            body=f"Hello {user.display_name},\n\n{_first_step(user, 'the link works once')}\n",
        )
    )
    record_event("invite.send", actor=actor, target=user, new=user.role)


def user_for_token(token: str, purpose: str) -> User:
    """The account a link is for, if the link is valid, unexpired and unused.

    Raises `AccountError` saying whether the link is broken, expired or already used.
    """
    max_age = current_app.config["INVITE_MAX_AGE" if purpose == "invite" else "RESET_MAX_AGE"]
    try:
        claim, fingerprint = read_token(current_app.config["SECRET_KEY"], token, purpose, max_age)
    except TokenError as error:
        raise AccountError(str(error)) from None
    user = db.session.get(User, claim.user_id)
    if user is None or not user.active:
        raise AccountError("This link is no longer valid. Ask an admin for help.")
    if fingerprint != password_fingerprint(user.password_hash):
        raise AccountError("This link has already been used. Ask for a new one if you still need it.")
    return user


def accept_invite(token: str, password: str) -> User:
    """Set the invited person's password; the link then stops working."""
    user = user_for_token(token, "invite")
    _check_password(user, password)
    _set_password(user, password)
    record_event("invite.accept", actor=user, target=user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account matching `email` and `password`, else None.

    Unknown emails, inactive accounts and wrong passwords all cost one password check,
    so the time taken does not tell them apart.
    """
    user = find_user_by_email(email)
    stored_hash = user.password_hash if user is not None else None
    matches = verify_password(stored_hash, password)
    if user is None or not matches or not user.active:
        record_event("login.failure", actor=user, target=user, target_label=None if user else normalise_email(email))
        return None
    return user


def record_login(user: User, method: str | None = None) -> None:
    """Note a completed sign-in (after any second factor); `method` names a way other than the password."""
    user.last_login_at = utcnow()
    record_event("login.success", actor=user, target=user, new=method)


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password, given the current one; ends every session (the route starts a new one here)."""
    if not verify_password(user.password_hash, current):
        raise AccountError("Your current password is not right.", field="current")
    _check_password(user, new)
    _set_password(user, new)
    record_event("password.change", actor=user, target=user)


def unknown_address_label(email: str) -> str:
    """How the audit log names an address with no account: a keyed digest, never the address itself.

    Anyone may type any address into the reset form; the log must not keep strangers'
    addresses, yet repeated requests for one address should be seen as one.
    """
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()[:12]
    return f"unknown address {digest}"


def request_password_reset(email: str) -> None:
    """Mail a reset link if an active account has this email; say nothing either way.

    Both cases do the same work in the request, so its time tells nothing: one lookup, a
    signed token, an audit row, and no mail sent before the answer (it goes after the
    response, `send_after_response`). The only extra for a known address is the outbox row.
    """
    user = find_user_by_email(email)
    send_after_response()
    if user is None or not user.active:
        make_token(current_app.config["SECRET_KEY"], 0, "reset", None)
        record_event("password.reset-request", actor=None, target_label=unknown_address_label(email))
        return
    minutes = int(current_app.config["RESET_MAX_AGE"].total_seconds() // 60)
    queue_mail(
        Mail(
            to=user.email,
            subject=f"Reset your {current_app.config['SITE_NAME']} password",
            body=(
                f"Hello {user.display_name},\n\n"
                f"Someone asked to reset the password of your account. The link works once, for {minutes} minutes:\n\n"
                f"{reset_link(user)}\n\n"
                "If it was not you, ignore this message: your password has not changed.\n"
            ),
        )
    )
    record_event("password.reset-request", actor=user, target=user)


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link; ends every session of the account."""
    user = user_for_token(token, "reset")
    _check_password(user, password)
    _set_password(user, password)
    record_event("password.reset", actor=user, target=user)
    return user


def set_role(user: User, role: str, *, actor: User) -> None:
    """Change a role; the person's sessions end so the new rights apply at once."""
    require(actor, "users.manage")
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}'.")
    if user.id == actor.id and role != Role.ADMIN:
        raise AccountError("You cannot remove your own admin role; ask another admin.")
    if role == user.role:
        return
    record_event("user.role", actor=actor, target=user, old=user.role, new=role)
    user.role = role
    end_all_sessions(user)


def set_active(user: User, active: bool, *, actor: User) -> None:
    """Deactivate (ending every session at once) or reactivate an account."""
    require(actor, "users.manage")
    if user.id == actor.id and not active:
        raise AccountError("You cannot deactivate your own account.")
    if user.active == active:
        return
    user.active = active
    end_all_sessions(user)
    record_event("user.reactivate" if active else "user.deactivate", actor=actor, target=user)


def set_organisation(user: User, organisation: Organisation | None, *, actor: User) -> None:
    """Move a person to another organisation (or none)."""
    require(actor, "users.manage")
    if user.organisation_id == (organisation.id if organisation else None):
        return
    record_event(
        "user.organisation",
        actor=actor,
        target=user,
        old=user.organisation_name,
        new=organisation.name if organisation else "",
    )
    user.organisation = organisation


def add_panel_seat(user: User, review: Review, *, actor: User) -> None:
    """Seat a person on one review's panel; takes effect on their next request."""
    require(actor, "users.manage")
    if any(seat.review_id == review.id for seat in user.panel_seats):
        return
    user.panel_seats.append(PanelMembership(review_id=review.id))
    record_event("panel.add", actor=actor, target=user, new=review.slug)


def remove_panel_seat(user: User, review: Review, *, actor: User) -> None:
    """Take a person off one review's panel."""
    require(actor, "users.manage")
    for seat in list(user.panel_seats):
        if seat.review_id == review.id:
            user.panel_seats.remove(seat)
            record_event("panel.remove", actor=actor, target=user, old=review.slug)


def save_organisation(
    organisation: Organisation | None, *, name: str, type_: str, region: str | None, actor: User
) -> Organisation:
    """Create an organisation (when `organisation` is None) or change one."""
    require(actor, "users.manage")
    name = checked_name(name, "The organisation's name", "name")
    clash = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if clash is not None and clash is not organisation:
        raise AccountError(f"There is already an organisation called {clash.name}.")
    if organisation is None:
        organisation = Organisation(name=name, type=type_, region=region or None)
        db.session.add(organisation)
        db.session.flush()
        record_event("organisation.create", actor=actor, target=organisation, new=name)
        return organisation
    old = f"{organisation.name} ({organisation.type}, {organisation.region or 'no region'})"
    organisation.name, organisation.type, organisation.region = name, type_, region or None
    record_event(
        "organisation.update",
        actor=actor,
        target=organisation,
        old=old,
        new=f"{name} ({type_}, {region or 'no region'})",
    )
    return organisation


def create_first_admin(email: str, display_name: str) -> tuple[User, str]:
    """An admin account with a one-time set-password link, for setting up a new site.

    Raises `AccountError` if the email is taken by someone who is not an admin yet to set
    a password; an unfinished admin gets a fresh link instead.
    """
    user = find_user_by_email(email.strip())
    if user is None:
        user = create_user(email, display_name, role="admin")
        record_event("invite.send", actor=None, target=user, new="admin")
    elif user.role != Role.ADMIN or user.has_password:
        raise AccountError(f"{user.email} already has an account; an admin can change its role on the Users page.")
    return user, invite_link(user)
