"""Second factors: setting up an authenticator app, checking its codes, and recovery codes.

Services change models and audit events, and flush; the caller commits once. Each raises
`AccountError` with a message meant for the person.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete

from kb.audit.service import record_event
from kb.dates import utcnow
from kb.extensions import db
from kb.users import totp
from kb.users.models import STAFF_ROLES, PendingSecondFactor, RecoveryCode, User
from kb.users.service import AccountError


def needs_second_factor(user: User) -> bool:
    """Moderators and admins must use a second factor."""
    return user.role in STAFF_ROLES


@dataclass(frozen=True)
class TotpEnrolment:
    """What the set-up page shows: the secret, its otpauth address and its QR code."""

    secret: str
    uri: str
    qr_svg: Markup


def totp_enrolment(user: User, secret: str) -> TotpEnrolment:
    """The set-up details for `secret`, to be confirmed with a code."""
    uri = totp.provisioning_uri(secret, user.email, current_app.config["SITE_NAME"])
    return TotpEnrolment(secret, uri, totp.qr_svg(uri))


TOTP_ENROLMENT_MAX_AGE = dt.timedelta(minutes=30)
"""How long a secret shown for setting up an authenticator app can still be confirmed."""


def pending_second_factor(user: User, pending_id: str | None) -> PendingSecondFactor:
    """The secret `user` is setting up (by the id their session holds), or a fresh one. Flushes.

    The secret stays in the database; only the returned row's random `id` goes into the
    session. Expired set-ups, and the user's other unconfirmed ones, are deleted.
    """
    now = utcnow()
    db.session.execute(
        delete(PendingSecondFactor).where(
            (PendingSecondFactor.expires_at < now)
            | ((PendingSecondFactor.user_id == user.id) & (PendingSecondFactor.id != (pending_id or "")))
        ),
        execution_options={"synchronize_session": False},
    )
    pending = db.session.get(PendingSecondFactor, pending_id) if pending_id else None
    if pending is None or pending.user_id != user.id:
        pending = PendingSecondFactor(
            id=secrets.token_urlsafe(32),
            user_id=user.id,
            secret=totp.new_secret(),
            expires_at=now + TOTP_ENROLMENT_MAX_AGE,
        )
        db.session.add(pending)
    db.session.flush()
    return pending


def enable_totp(user: User, pending: PendingSecondFactor, code: str) -> list[str]:
    """Turn on the second factor once a code from the app matches the secret being set up.

    Returns new recovery codes; the set-up is deleted. Raises `AccountError` when the code
    does not match.
    """
    secret = pending.secret
    step = totp.matching_step(secret, code, None)
    if step is None:
        raise AccountError("That code does not match. Check the time on your phone and enter the newest code.")
    db.session.delete(pending)
    user.totp_secret = secret
    user.totp_last_step = step
    codes = totp.new_recovery_codes()
    user.recovery_codes = [RecoveryCode(code_hash=totp.hash_recovery_code(code)) for code in codes]
    record_event("totp.enable", actor=user, target=user)
    return codes


def verify_second_factor(user: User, code: str) -> bool:
    """Accept a current authenticator code or an unused recovery code, once."""
    if user.totp_secret is None:
        return False
    step = totp.matching_step(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return True
    wanted = totp.hash_recovery_code(code)
    for recovery in user.recovery_codes:
        if recovery.used_at is None and recovery.code_hash == wanted:
            recovery.used_at = utcnow()
            record_event("totp.recovery-used", actor=user, target=user)
            return True
    return False


def replace_recovery_codes(user: User) -> list[str]:
    """Throw away every recovery code and make a fresh set, returned to be shown once."""
    codes = totp.new_recovery_codes()
    user.recovery_codes = [RecoveryCode(code_hash=totp.hash_recovery_code(code)) for code in codes]
    record_event("totp.enable", actor=user, target=user, new="new recovery codes")
    return codes


def unused_recovery_codes(user: User) -> int:
    """How many recovery codes the person has left."""
    return sum(1 for code in user.recovery_codes if code.used_at is None)
