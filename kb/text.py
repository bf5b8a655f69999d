"""What characters kb accepts: the one definition used by the request doorway, forms and content files.

Three classes of character are told apart here:
- *forbidden*: NUL, the other C0 controls (tab and, in multi-line text, CR and LF excepted),
  DEL, the C1 controls, lone surrogates and the noncharacters U+FFFE and U+FFFF. No text that
  holds one is accepted anywhere; PostgreSQL cannot even store NUL, and XML (feeds) cannot
  hold U+FFFE or U+FFFF.
- *invisible*: bidi controls and zero-width characters. Harmless in a comment's body, they
  let one title, name, tag, slug or address pass for another, so `clean_line` removes them.
- everything else, which is NFC-normalised so that two spellings of "é" are one string.
"""

from __future__ import annotations

import re
import unicodedata

_C0_BUT_WHITESPACE = "\x00-\x08\x0b\x0c\x0e-\x1f"
_DEL_AND_C1 = "\x7f-\x9f"
_SURROGATES = "\ud800-\udfff"
_NONCHARACTERS = "\ufffe\uffff"
FORBIDDEN_IN_LINE = re.compile(f"[{_C0_BUT_WHITESPACE}\n\r{_DEL_AND_C1}{_SURROGATES}{_NONCHARACTERS}]")
"""A character no single-line value (title, name, tag, address, path, query) may hold; tab is allowed."""
FORBIDDEN_IN_TEXT = re.compile(f"[{_C0_BUT_WHITESPACE}{_DEL_AND_C1}{_SURROGATES}{_NONCHARACTERS}]")
"""A character no multi-line value (Markdown, a form's text area) may hold; tab, CR and LF are allowed."""

INVISIBLE = re.compile(
    "["
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u061c"  # Arabic letter mark
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u180e"  # Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner and invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\ufeff"  # zero-width no-break space (byte order mark)
    "]"
)
"""Bidi controls and zero-width characters: removed from titles, names, tags, slugs and addresses."""


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character `text` may not hold, or None when it is clean.

    `multiline` allows CR and LF (text areas, Markdown); tab is allowed everywhere.
    """
    match = (FORBIDDEN_IN_TEXT if multiline else FORBIDDEN_IN_LINE).search(text)
    return match.group(0) if match else None


def describe_character(character: str) -> str:
    """A character as a person can read it in an error message, e.g. "U+0000 (NULL)"."""
    unnamed = {"\x00": "NULL", "\ufffe": "noncharacter", "\uffff": "noncharacter"}
    name = unicodedata.name(character, "") or unnamed.get(character, "control character")
    return f"U+{ord(character):04X} ({name})"


def normalise(text: str) -> str:
    """NFC-normalise, so that every spelling of the same letters is the same string."""
    return unicodedata.normalize("NFC", text)


def clean_line(text: str) -> str:
    """A one-line value made safe to compare and show: invisible characters removed, NFC, outer space trimmed.

    Forbidden characters are not removed here: the request doorway refuses them first.
    """
    return normalise(INVISIBLE.sub("", text)).strip()


def fold_case(text: str) -> str:
    """Fold case one way for slugs and lookups: NFC after `str.casefold` ("Straße" and "STRASSE" meet)."""
    return normalise(normalise(text).casefold())


def one_line(text: str | None) -> str:
    """A title, tag or label as one clean line: invisible characters removed, NFC, white space runs made one space."""
    return " ".join(clean_line(text or "").split())
