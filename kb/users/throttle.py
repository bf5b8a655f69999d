"""Failed-password throttling that slows a guesser without letting a stranger lock an account's owner out.

Attempts are counted in the rate limiter's storage (kb's database with
`RATELIMIT_STORAGE_URI=database`, so every worker and host counts the same attempts):

- every attempt per client address, right or wrong, on any account (`LOGIN_LIMIT_PER_ADDRESS`);
- per account *and* client address (the address's /64 for IPv6), counted apart for browsers
  the account knows and for the rest, so a guesser behind the owner's shared address (one
  trust's network) never delays the owner's own browser: after
  `LOGIN_FREE_FAILURES` failures the next try waits `LOGIN_FIRST_DELAY_SECONDS`, then twice
  as long after each further failure, up to `LOGIN_MAX_DELAY_SECONDS`; failures are
  forgotten `LOGIN_FAILURE_WINDOW_MINUTES` after the first, or at a successful sign-in from
  that address. A guesser at one address slows only that account at that address.
- per account, from clients the account does not know: a browser where the account has
  signed in before carries a signed "known device" cookie for it. When
  `LOGIN_ACCOUNT_FAILURES` failures from unknown clients (spread over many addresses) pile
  up within the window, only unknown clients are refused; the owner's browser still signs in.

Refusals happen before the password is checked and say when to try again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse

from kb.extensions import limiter

DEVICE_COOKIE = "kb_device"
DEVICE_MAX_AGE_SECONDS = 365 * 24 * 3600
_PREFIX = "kb-login"


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused now, and the Unix time from which it may be made again."""

    until: float
    reason: str

    @property
    def retry_after(self) -> int:
        """Whole seconds until the next attempt may be made (at least 1)."""
        return max(1, math.ceil(self.until - time.time()))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def client_group(address: str | None) -> str:
    """The address failures are counted for: an IPv4 address, or the /64 network of an IPv6 one."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _settings() -> tuple[int, int, int, int, int]:
    config = current_app.config
    return (
        int(config["LOGIN_FREE_FAILURES"]),
        int(config["LOGIN_FIRST_DELAY_SECONDS"]),
        int(config["LOGIN_MAX_DELAY_SECONDS"]),
        int(config["LOGIN_FAILURE_WINDOW_MINUTES"]) * 60,
        int(config["LOGIN_ACCOUNT_FAILURES"]),
    )


def delay_after(failures: int) -> int:
    """Seconds to wait after `failures` failures at one address: 0, then doubling, capped."""
    free, first, most, _, _ = _settings()
    if failures < free:
        return 0
    return min(most, first * 2 ** min(failures - free, 30))


def _pair_key(account: str, group: str, known_device: bool) -> str:
    return f"{_PREFIX}/pair/{_digest(account)}/{group}{'/known' if known_device else ''}"


def _account_key(account: str) -> str:
    return f"{_PREFIX}/account/{_digest(account)}"


def count_attempt(address: str | None) -> Refusal | None:
    """Count a sign-in attempt from `address` against `LOGIN_LIMIT_PER_ADDRESS`; a refusal when over it.

    This limit counts every attempt, on any account: it stops one address trying many accounts.
    """
    limit = parse(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])
    group = client_group(address)
    if limiter.limiter.hit(limit, _PREFIX, "address", group):
        return None
    return Refusal(limiter.limiter.get_window_stats(limit, _PREFIX, "address", group).reset_time, "busy")


def check(account: str, address: str | None, *, known_device: bool) -> Refusal | None:
    """Whether an attempt on `account` (a normalised email) from `address` must wait, and until when."""
    storage = limiter.storage
    _, _, _, _, account_limit = _settings()
    pair = _pair_key(account, client_group(address), known_device)
    failures = storage.get(pair)
    if failures and delay_after(failures):
        wait_key = f"{pair}/wait/{failures}"
        if storage.get(wait_key):
            return Refusal(storage.get_expiry(wait_key), "address")
    if not known_device:
        account_key = _account_key(account)
        if storage.get(account_key) >= account_limit:
            return Refusal(storage.get_expiry(account_key), "account")
    return None


def record_failure(account: str, address: str | None, *, known_device: bool) -> Refusal | None:
    """Count a wrong password; returns the wait the next attempt from this address now faces, if any."""
    storage = limiter.storage
    _, _, _, window, _ = _settings()
    pair = _pair_key(account, client_group(address), known_device)
    failures = storage.incr(pair, window)
    if not known_device:
        storage.incr(_account_key(account), window)
    delay = delay_after(failures)
    if not delay:
        return None
    # One key per failure count: its window is exactly the wait, starting now.
    storage.incr(f"{pair}/wait/{failures}", delay)
    return Refusal(time.time() + delay, "address")


def record_success(account: str, address: str | None, *, known_device: bool) -> None:
    """Forget the failures of this kind of browser at this address once the right password (and code) came from it.

    A known browser's success does not clear what unknown ones at the same address piled up.
    """
    limiter.storage.clear(_pair_key(account, client_group(address), known_device))


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kb-known-device")


def device_cookie_value(account: str) -> str:
    """The signed cookie value that marks this browser as one where `account` has signed in."""
    return _devices().dumps(_digest(account))


def is_known_device(cookie: str | None, account: str) -> bool:
    """Whether the browser's known-device cookie was issued for `account` and has not expired."""
    if not cookie:
        return False
    try:
        value = _devices().loads(cookie, max_age=DEVICE_MAX_AGE_SECONDS)
    except BadSignature:
        return False
    return value == _digest(account)


def wait_message(refusal: Refusal) -> str:
    """What the person is told: why they must wait, and for how long."""
    seconds = refusal.retry_after
    when = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    if refusal.reason == "busy":
        return (
            "Too many sign-in attempts from your network. For your safety, signing in is paused: "
            f"try again in {when}. If you have forgotten your password, reset it."
        )
    if refusal.reason == "account":
        return (
            "This account has had many failed sign-ins from other places, so for its safety it can only be "
            f"signed in to from a browser where it was used before. Try again in {when}, or reset your password."
        )
    return (
        "Too many failed sign-ins to this account from your network. For its safety, signing in is paused: "
        f"try again in {when}. If you have forgotten your password, reset it."
    )
