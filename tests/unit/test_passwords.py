"""Password rules: lengths by role, no composition rules, the common-password list."""

from __future__ import annotations

import pytest

from kb.users.passwords import common_passwords, hash_password, password_problems, verify_password


@pytest.mark.parametrize(
    ("password", "staff", "acceptable"),
    [
        ("seven77", False, False),
        ("tram7bell", False, True),
        ("fourteen chars", True, False),
        ("fifteen chars!!", True, True),
        ("a" * 64 + "b", False, True),
        ("x" * 128, True, True),
        ("x" * 129, False, False),
        ("onlylowercaseletters", False, True),
        ("   spaced   words   ", False, True),
        ("pässwörd-ünicode", False, True),
    ],
)
def test_length_is_the_only_shape_rule(password: str, staff: bool, acceptable: bool) -> None:
    assert (password_problems(password, staff=staff) == []) is acceptable


@pytest.mark.parametrize("password", ["password", "PASSWORD1", "12345678", "iloveyou", "baseball"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    problems = password_problems(password, staff=False)
    assert any("most common passwords" in problem for problem in problems)


def test_the_shipped_list_is_large_and_lower_case() -> None:
    words = common_passwords()
    assert len(words) > 10_000
    assert all(word == word.lower() for word in words)
    assert not any(word.startswith("#") for word in words)


def test_a_password_may_not_be_the_email_or_name() -> None:
    problems = password_problems("Sam@Example.org", staff=False, identity=("sam@example.org", "Sam"))
    assert problems == ["Do not use your email address or name as your password."]


def test_the_message_says_how_short_and_what_the_minimum_is() -> None:
    (problem,) = password_problems("short one", staff=True)
    assert "at least 15 characters" in problem
    assert "this has 9" in problem


def test_hashes_are_scrypt_salted_and_verify() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt:")
    assert first != second
    assert verify_password(first, "correct horse")
    assert not verify_password(first, "correct horse!")
    assert not verify_password(None, "anything")
