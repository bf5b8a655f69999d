"""Reading query arguments in page handlers."""

from __future__ import annotations

from flask import request


def int_arg(name: str, default: int | None = None) -> int | None:
    """A whole-number query argument; anything else counts as not given."""
    value = request.args.get(name, "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        return default
    return int(value)
