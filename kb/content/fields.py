"""The front matter fields of a content file: the table of keys, and how each value is read and checked.

A value of the wrong form raises `InvalidValueError` with a message naming what was
expected; `kb.content.document` turns it into a `Problem` located at the value's line.
This module has no app and no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb.dates import BadDateError, PartialDate
from kb.entries.vocabulary import (
    ACTION_STATUSES,
    KINDS,
    MATURITIES,
    PAPER_STATUSES,
    PAPER_TYPES,
    REVIEW_STATUSES,
    STATUSES,
    VISIBILITIES,
)
from kb.text import clean_line, describe_character, fold_case, forbidden_character

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Problem:
    """Something wrong in a content file, located by path and line."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class SourceRef:
    """An outside source an entry rests on (a report, an article)."""

    title: str
    publisher: str | None = None
    date: PartialDate | None = None
    url: str | None = None


@dataclass(frozen=True)
class _Field:
    key: str
    read: Callable[[Any], Any]
    kinds: tuple[str, ...] = ("lesson", "review", "paper")
    required: bool = False
    default: Any = None


class InvalidValueError(ValueError):
    """A front matter value of the wrong form; the message names what was expected.

    `where` leads from the key's value to the part at fault (list positions and mapping
    keys), so the problem can name that part's own line.
    """

    def __init__(self, message: str, where: tuple[int | str, ...] = ()):
        super().__init__(message)
        self.where = where


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidValueError("expected text")
    text = clean_line(str(value))
    if not text:
        raise InvalidValueError("is empty")
    return text


def _choice(choices: dict[str, str]) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        text = _text(value)
        if text not in choices:
            raise InvalidValueError(f"'{text}' is not one of: {', '.join(choices)}")
        return text

    return read


def _date(value: Any) -> PartialDate:
    try:
        return PartialDate.parse(value)
    except BadDateError as error:
        raise InvalidValueError(f"bad date: {error}") from None


def _slug(value: Any) -> str:
    text = _text(value)
    if not SLUG.match(text):
        raise InvalidValueError(f"'{text}' is not a slug (lower-case letters, digits and single hyphens)")
    return text


def _slug_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise InvalidValueError("expected a list of slugs")
    return list(dict.fromkeys(_slug(item) for item in value))


def slug_words(text: str) -> str:
    """Text as slug letters: invisible characters dropped, case folded one way, accents dropped, ASCII only.

    Folding before dropping accents makes "Straße" and "STRASSE" both "strasse", and "İ" and "i" both "i".
    """
    folded = unicodedata.normalize("NFKD", fold_case(clean_line(text)))
    return "".join(character for character in folded if not unicodedata.combining(character)).lower()


def normalise_tag(text: str) -> str:
    """A tag's slug: case folded (`slug_words`), runs of other characters become one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", slug_words(text)).strip("-")


def forbidden_characters(text: str, path: str) -> list[Problem]:
    """A problem for each line of a content file holding a character kb never accepts (`kb.text`)."""
    problems = []
    for number, line in enumerate(text.split("\n"), 1):  # not splitlines(): it splits at U+0085 and others
        character = forbidden_character(line.removesuffix("\r"), multiline=False)
        if character is not None:
            problems.append(Problem(path, number, f"the character {describe_character(character)} is not allowed"))
    return problems


def _tag_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise InvalidValueError("expected a list of tags")
    tags = [normalise_tag(_text(item)) for item in value]
    if not all(tags):
        raise InvalidValueError("a tag needs at least one letter or digit")
    return list(dict.fromkeys(tags))


def _url(value: Any) -> str:
    text = _text(value)
    if not re.match(r"^https?://\S+$", text):
        raise InvalidValueError(f"'{text}' is not an http or https address")
    return text


_SOURCE_FIELDS: dict[str, Callable[[Any], Any]] = {"title": _text, "publisher": _text, "date": _date, "url": _url}


def _sources(value: Any) -> list[SourceRef]:
    if not isinstance(value, list):
        raise InvalidValueError("expected a list of sources, each with a title")
    refs = []
    for index, item in enumerate(value):
        number = index + 1
        if not isinstance(item, dict) or "title" not in item:
            raise InvalidValueError(f"source {number} needs a title")
        unknown = set(item) - set(_SOURCE_FIELDS)
        if unknown:
            names = ", ".join(sorted(map(str, unknown)))
            raise InvalidValueError(f"source {number} has unknown keys: {names}", (index,))
        fields = {}
        for key, read in _SOURCE_FIELDS.items():
            if item.get(key) is None:
                continue
            try:
                fields[key] = read(item[key])
            except InvalidValueError as error:
                raise InvalidValueError(f"source {number}: {error}", (index, key)) from None
        refs.append(SourceRef(**fields))
    return refs


ATTACHMENT_FILENAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.))*$")
"""A document's file name as kb stores it: ASCII letters, digits, `-`, `_` and single dots, no path."""
ATTACHMENT_FILENAME_MAX = 200


@dataclass
class AttachmentRef:
    """A document attached to an entry: its file beside the content file (`<slug>/<filename>`) and its title."""

    file: str
    title: str

    @property
    def filename(self) -> str:
        """The file's own name, without the folder."""
        return self.file.rsplit("/", 1)[-1]


def _attachment_file(value: Any) -> str:
    text = _text(value)
    folder, slash, name = text.partition("/")
    if (
        not slash
        or not SLUG.match(folder)
        or len(name) > ATTACHMENT_FILENAME_MAX
        or not ATTACHMENT_FILENAME.match(name)
    ):
        raise InvalidValueError(
            f"'{text}' is not a file beside the entry: "
            "write '<slug>/<name>', the name in letters, digits, '-', '_' and '.'"
        )
    return text


def _attachments(value: Any) -> list[AttachmentRef]:
    if not isinstance(value, list):
        raise InvalidValueError("expected a list of attachments, each with a file and a title")
    refs: list[AttachmentRef] = []
    for index, item in enumerate(value):
        number = index + 1
        if not isinstance(item, dict) or "file" not in item or "title" not in item:
            raise InvalidValueError(f"attachment {number} needs a file and a title", (index,))
        unknown = set(item) - {"file", "title"}
        if unknown:
            names = ", ".join(sorted(map(str, unknown)))
            raise InvalidValueError(f"attachment {number} has unknown keys: {names}", (index,))
        fields = {}
        for key in ("file", "title"):
            try:
                fields[key] = _attachment_file(item[key]) if key == "file" else _text(item[key])
            except InvalidValueError as error:
                raise InvalidValueError(f"attachment {number}: {error}", (index, key)) from None
        if any(ref.file == fields["file"] for ref in refs):
            raise InvalidValueError(f"attachment {number}: '{fields['file']}' is listed twice", (index, "file"))
        refs.append(AttachmentRef(**fields))
    return refs


def _markdown_text(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValueError("expected Markdown text")
    return value.strip()


FIELDS: tuple[_Field, ...] = (
    _Field("kind", _choice(KINDS), required=True),
    _Field("slug", _slug),
    _Field("replaces", _slug_list, default=[]),
    _Field("title", _text, required=True),
    _Field("summary", _text, required=True),
    _Field("status", _choice(STATUSES), default="published"),
    _Field("visibility", _choice(VISIBILITIES), default="public"),
    _Field("review", _slug),
    _Field("region", _text),
    _Field("event_date", _date),
    _Field("organisation", _text),
    _Field("tags", _tag_list, default=[]),
    _Field("source", _slug),
    _Field("see_also", _slug_list, default=[]),
    _Field("sources", _sources, default=[]),
    _Field("attachments", _attachments, default=[]),
    _Field("maturity", _choice(MATURITIES), ("lesson",), default="observation"),
    _Field("action_status", _choice(ACTION_STATUSES), ("lesson",), default="identified"),
    _Field("action_owner", _text, ("lesson",)),
    _Field("action_due", _date, ("lesson",)),
    _Field("action_note", _text, ("lesson",)),
    _Field("action_evidence", _markdown_text, ("lesson",)),
    _Field("commissioning_body", _text, ("review",), required=True),
    _Field("review_status", _choice(REVIEW_STATUSES), ("review",), default="commissioned"),
    _Field("terms_of_reference", _markdown_text, ("review",)),
    _Field("meeting", _text, ("paper",)),
    _Field("meeting_date", _date, ("paper",)),
    _Field("paper_type", _choice(PAPER_TYPES), ("paper",), required=True),
    _Field("paper_status", _choice(PAPER_STATUSES), ("paper",), default="final"),
)
FIELDS_BY_KEY = {spec.key: spec for spec in FIELDS}
