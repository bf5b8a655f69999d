"""Reading numbers from requests in page handlers: query arguments, form fields, repeated form blocks and URL ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, ValidationError
from wtforms import FieldList

MAX_ID = 2**31 - 1
"""The largest id a URL or form may name: the top of a 32-bit database integer."""


def whole_number(value: str | None) -> int | None:
    """`value` as a small whole number (ASCII digits, at most nine of them), else None.

    Nine digits always fit a 32-bit database integer; `"²".isdigit()` is true but
    `int("²")` fails, hence the ASCII check.
    """
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


class AsciiIndexFieldList(FieldList):
    """A WTForms `FieldList` that reads only ASCII-digit indices from submitted names.

    WTForms takes any name part for which `isdigit()` holds as an index and calls `int()`
    on it, so a crafted `questions-²-prompt` would raise instead of being ignored.
    """

    def _extract_indices(self, prefix: str, formdata: Any) -> Iterator[int]:
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = whole_number(key[offset:].split(self._field_separator, 1)[0])
                if index is not None:
                    yield index


def int_arg(name: str, default: int | None = None) -> int | None:
    """A whole-number query argument (a page, a year, an id), or `default` when it is absent or empty.

    Raises BadRequest (400) for anything else (`-1`, `abc`, `1e3`, `²`, ten digits or more):
    a malformed number is never read as some other one.
    """
    text = request.args.get(name, "").strip()
    if not text:
        return default
    number = whole_number(text)
    if number is None:
        raise BadRequest(f"“{name}” in the address must be a whole number of at most nine digits, not “{text[:40]}”.")
    return number


class BoundedIntegerConverter(IntegerConverter):
    """The app's `<int:...>` URL converter: whole numbers from 0 to `MAX_ID` (2**31 - 1).

    A larger number does not match, so its address answers 404 instead of overflowing
    the database's integer (an error from SQLite, or PostgreSQL's 32-bit columns).
    """

    def to_python(self, value: str) -> int:
        """The number in the URL, refusing one above `MAX_ID` (werkzeug then tries other routes, or 404)."""
        number = super().to_python(value)
        if number > MAX_ID:
            raise ValidationError()
        return number
