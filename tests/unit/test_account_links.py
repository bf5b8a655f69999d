"""Signed account links, second-factor codes and recovery codes."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from kb.users import totp
from kb.users.routes import safe_next
from kb.users.tokens import TokenError, make_token, password_fingerprint, read_token

HOUR = dt.timedelta(hours=1)


def test_a_token_carries_its_user_purpose_and_password_fingerprint() -> None:
    token = make_token("secret", 7, "reset", "scrypt:old-hash")
    claim, fingerprint = read_token("secret", token, "reset", HOUR)
    assert (claim.user_id, claim.purpose) == (7, "reset")
    assert fingerprint == password_fingerprint("scrypt:old-hash")
    assert fingerprint != password_fingerprint("scrypt:new-hash")


@pytest.mark.parametrize(
    ("secret", "purpose", "message"),
    [("other-secret", "reset", "not valid"), ("secret", "invite", "not valid")],
)
def test_a_token_for_another_key_or_purpose_is_refused(secret: str, purpose: str, message: str) -> None:
    token = make_token("secret", 7, "reset", None)
    with pytest.raises(TokenError, match=message):
        read_token(secret, token, purpose, HOUR)


def test_an_old_token_has_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    token = make_token("secret", 7, "reset", None)
    later = dt.datetime.now(dt.UTC).timestamp() + 3601
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    with pytest.raises(TokenError, match="expired"):
        read_token("secret", token, "reset", HOUR)


def test_a_code_matches_once_and_allows_one_step_of_drift() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    code = pyotp.TOTP(secret).at(now)
    step = totp.matching_step(secret, code, None, at=now)
    assert step is not None
    assert totp.matching_step(secret, code, step, at=now) is None
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now - 30), None, at=now) == step - 1
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now - 90), None, at=now) is None
    assert totp.matching_step(secret, "12345", None, at=now) is None
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", None, at=now) == step


def test_recovery_codes_are_distinct_and_compared_loosely() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == totp.RECOVERY_CODE_COUNT
    code = codes[0]
    assert totp.hash_recovery_code(code) == totp.hash_recovery_code(code.upper().replace("-", " "))


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/lessons", "/lessons"),
        ("/lessons?tag=a&page=2", "/lessons?tag=a&page=2"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("evil.example", None),
        ("/x\r\nSet-Cookie: a=b", None),
        ("", None),
        (None, None),
    ],
)
def test_next_is_only_ever_a_same_site_path(target: str | None, safe: str | None) -> None:
    assert safe_next(target) == safe
