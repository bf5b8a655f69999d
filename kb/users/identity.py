"""What an account's address and a person's or organisation's name may be. Pure: no app and no database.

Addresses are checked by `email-validator` (syntax, internationalised domains through IDNA,
no control, zero-width or bidi characters) and kept in its normalised form. Two addresses
that a reader cannot tell apart share a *skeleton*: NFKC, case folded, invisible characters
removed and common Cyrillic and Greek look-alikes of Latin letters folded to them, so a new
account whose skeleton matches an existing one is refused. Names are one line of visible text.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from kb.errors import InvalidInputError
from kb.text import INVISIBLE, clean_line, describe_character, fold_case, forbidden_character

EMAIL_MAX = 254

# Letters that look like Latin ones in common fonts (after case folding), after Unicode's
# confusables list (UTS #39) restricted to Cyrillic, Greek and a few Latin lookalikes and digits.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "с": "c",
        "ԁ": "d",
        "е": "e",
        "ё": "e",
        "һ": "h",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "к": "k",
        "ӏ": "l",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "ԛ": "q",
        "ѕ": "s",
        "т": "t",
        "у": "y",
        "ѵ": "v",
        "ԝ": "w",
        "х": "x",
        "ү": "y",
        "ɡ": "g",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        # Latin and digits
        "ı": "i",
        "ɩ": "i",
        "ℓ": "l",
        "0": "o",
        "1": "l",
        "|": "l",
    }
)


class IdentityError(InvalidInputError):
    """An address or name that cannot be accepted; the message says why, for the person typing it."""


def check_email(email: str) -> str:
    """The address in the form kb stores it (email-validator's normalised form), or `IdentityError`.

    Refuses bad syntax, domains that are not valid (IDNA) or reserved, control characters
    and invisible (zero-width, bidi) characters, with a message naming the problem.
    """
    email = email.strip()
    if not email:
        raise IdentityError("Enter an email address like name@example.org.")
    invisible = INVISIBLE.search(email)
    bad = forbidden_character(email) or (invisible.group(0) if invisible else None)
    if bad:
        raise IdentityError(f"The email address contains a character that is not allowed: {describe_character(bad)}.")
    if len(email) > EMAIL_MAX:
        raise IdentityError(f"The email address must be {EMAIL_MAX} characters or fewer; it has {len(email)}.")
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise IdentityError(f"Enter an email address like name@example.org. {error}") from None
    return checked.normalized


def skeleton(email: str) -> str:
    """What `email` looks like: two addresses with one skeleton cannot be told apart by a reader."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", email))
    return fold_case(text).translate(_CONFUSABLES)


def look_alike(email: str, existing: list[str]) -> str | None:
    """The first of `existing` that a reader could take for `email` (the same one included), else None."""
    wanted = skeleton(email)
    return next((other for other in existing if skeleton(other) == wanted), None)


def check_name(name: str, what: str = "The name") -> str:
    """A display or organisation name made one clean line, or `IdentityError` saying what is wrong.

    Line breaks, control characters and invisible characters are refused, not removed: a
    name is shown to others and put into mail, so what was typed must be what is seen.
    """
    bad = forbidden_character(name)
    if bad in ("\r", "\n"):
        raise IdentityError(f"{what} must be on one line: remove the line break.")
    if bad:
        raise IdentityError(f"{what} contains a character that is not allowed: {describe_character(bad)}.")
    invisible = INVISIBLE.search(name)
    if invisible:
        raise IdentityError(
            f"{what} contains an invisible character ({describe_character(invisible.group(0))}); remove it."
        )
    cleaned = clean_line(name)
    if not cleaned:
        raise IdentityError(f"{what} is empty.")
    return cleaned
