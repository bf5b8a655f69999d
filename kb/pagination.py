"""Paging through query results, and the parameters of the NHS.UK pagination component."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from kb.extensions import db


@dataclass
class Page:
    """One page of a list, with what pagination needs."""

    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return page_count(self.total, self.per_page)


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill (at least one)."""
    return max(1, -(-total // per_page))


def paginate(query: Select[Any], number: int, per_page: int) -> Page:
    """Run `query` for one page; a page number out of range gives the nearest page."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = min(max(1, number), page_count(total, per_page))
    items = list(db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)))
    return Page(items, number, per_page, total)


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
