"""Cursor pagination for the API: opaque signed cursors and the `limit` parameter.

A cursor is a small JSON object signed with the app's secret key (itsdangerous), so a
client can only hand back one kb gave it: an altered or foreign cursor answers 400. Each
list pages by a stable key (an id, or a search's offset), so walking the `next`
cursors visits every item once. A search's cursor is bound to its words, filters and
order, so it cannot continue another search.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from kb.api.problems import ApiProblem

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SALT = "kb-api-cursor"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_cursor(listing: str, position: int, bound: str = "") -> str:
    """An opaque cursor continuing `listing` after `position`, only for the request `bound` names (if given)."""
    value: dict[str, Any] = {"l": listing, "p": position}
    if bound:
        value["b"] = bound
    return str(_serializer().dumps(value))


def read_cursor(listing: str, bound: str = "") -> int | None:
    """Where the request's `cursor` continues `listing` (None without one).

    Raises `ApiProblem` 400 for a cursor kb did not give out for this listing, or for
    another request than the one `bound` names.
    """
    text = single("cursor")
    if text is None:
        return None
    try:
        value: Any = _serializer().loads(text)
    except BadSignature:
        value = None
    ours = isinstance(value, dict) and value.get("l") == listing and value.get("b", "") == bound
    position = value.get("p") if ours else None
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise ApiProblem(
            400,
            "The cursor is not one this list gave out. Start again without it.",
            errors={"cursor": "Use the `next` cursor of a previous page of this list, as it was given."},
        )
    return position


def allow_only(*names: str) -> None:
    """Raise `ApiProblem` 400 naming any query parameter the operation does not take, or one given twice."""
    unknown = sorted(name for name in request.args if name not in names)
    if unknown:
        raise ApiProblem(
            400,
            "The request has query parameters this operation does not take.",
            errors={name[:100]: "Not a parameter of this operation." for name in unknown[:20]},
        )


def single(name: str) -> str | None:
    """The one value of query parameter `name` (None when absent); raises `ApiProblem` 400 when it is given twice."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ApiProblem(400, f"The parameter {name} is given more than once.", errors={name: "Give it once."})
    return values[0] if values else None


def read_limit() -> int:
    """The request's `limit`, 1 to `MAX_LIMIT` (default `DEFAULT_LIMIT`); raises `ApiProblem` 400 for anything else."""
    text = single("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or not 1 <= int(text) <= MAX_LIMIT:
        raise ApiProblem(
            400,
            "The limit is not a whole number from 1 to 100.",
            errors={"limit": f"Give a whole number from 1 to {MAX_LIMIT}."},
        )
    return int(text)
