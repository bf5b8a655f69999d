"""Second factor: time-based one-time passwords (RFC 6238) and recovery codes. Pure.

A code is accepted once: the time step it belongs to is remembered, so a code seen over
someone's shoulder cannot be replayed within its 30 seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from markupsafe import Markup

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    """A new base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """The `otpauth://` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    """The QR code of `uri` as inline SVG markup (no script, no external request), safe to print as it is.

    segno draws the code as paths from the bits of `uri`; the only text it writes is the
    constant title, so nothing typed by anyone reaches the markup.
    """
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
    return Markup(svg)  # noqa: S704 - built by segno from bits and a constant title


def matching_step(secret: str, code: str, last_step: int | None, *, at: float | None = None) -> int | None:
    """The time step `code` is valid for (allowing one step of clock drift), or None.

    A step at or before `last_step` is refused, so each code works once.
    """
    digits = "".join(code.split())
    if not digits.isdigit() or len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = at if at is not None else time.time()
    current = totp.timecode(dt.datetime.fromtimestamp(now, tz=dt.UTC))
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes, shown to the person once, e.g. `k7dp-3mxq-9fha`."""
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def hash_recovery_code(code: str) -> str:
    """The stored form of a recovery code; codes are random, so a plain digest suffices."""
    normalised = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(normalised.encode()).hexdigest()
