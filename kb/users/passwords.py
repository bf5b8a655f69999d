"""Password rules and hashing. Pure: no app and no database.

Rules follow NIST SP 800-63B: a minimum length (longer for moderators and admins), a
generous maximum, no composition rules, and a refusal of passwords on the shipped list
of common ones. Hashes are scrypt, through Werkzeug.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

MEMBER_MIN_LENGTH = 8
STAFF_MIN_LENGTH = 15
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"


@cache
def _dummy_hash() -> str:
    """Checked against when the email is unknown, so a wrong email costs as long as a wrong password."""
    return generate_password_hash("kb: no account has this password", method="scrypt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, *, staff: bool, identity: tuple[str, ...] = ()) -> list[str]:
    """Why `password` is not acceptable (an empty list when it is).

    `staff` asks for the longer minimum; `identity` holds the person's email and name,
    which a password must not simply repeat.
    """
    minimum = STAFF_MIN_LENGTH if staff else MEMBER_MIN_LENGTH
    problems = []
    length = len(password)
    if length < minimum:
        who = "moderators and admins" if staff else "everyone"
        problems.append(f"Use at least {minimum} characters (the minimum for {who}); this has {length}.")
    if length > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters; this has {length}.")
    lowered = password.strip().lower()
    if lowered in common_passwords():
        problems.append("This is one of the most common passwords. Choose another, for example three unrelated words.")
    elif lowered and any(lowered == part.strip().lower() for part in identity if part):
        problems.append("Do not use your email address or name as your password.")
    return problems


def hash_password(password: str) -> str:
    """An scrypt hash of `password`, salted."""
    return generate_password_hash(password, method="scrypt")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash`; takes as long when there is no hash."""
    if stored_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)
