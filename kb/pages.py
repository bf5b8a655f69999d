"""Helpers shared by page handlers: reading query arguments and building pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request

from kb.entries.service import Page


def int_arg(name: str, default: int | None = None) -> int | None:
    """A whole-number query argument; anything else counts as not given."""
    value = request.args.get(name, "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        return default
    return int(value)


def pagination_params(page: Page, url_for_page: Callable[[int], str]) -> dict[str, Any] | None:
    """Parameters for the NHS.UK numbered pagination macro, or None for a single page."""
    if page.pages <= 1:
        return None
    numbers = sorted({1, page.pages, *range(max(1, page.number - 2), min(page.pages, page.number + 2) + 1)})
    items: list[dict[str, Any]] = []
    for previous, number in zip([0, *numbers], numbers, strict=False):
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": url_for_page(number), "current": number == page.number})
    params: dict[str, Any] = {"items": items}
    if page.number > 1:
        params["previous"] = {"href": url_for_page(page.number - 1)}
    if page.number < page.pages:
        params["next"] = {"href": url_for_page(page.number + 1)}
    return params
