"""kb's one search interface: search with facets, suggestions and snippets; related entries.

Callers (the search page, entry pages, traceability, recurrence) use these functions and
the types they return; the app's backend (`kb.search.backend.backend()`, Whoosh or
PostgreSQL) does the work. Every call takes a `Viewer` and the backend searches within what
they may see, before paging: results, totals, facet counts, suggestions and snippets all
come from entries inside that set, and entries shown are loaded from the database through
the same rule. Related lists are remembered for a few minutes (`related_cache`).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app

from kb.entries.models import Entry, Lesson
from kb.permissions import Viewer
from kb.search.backend import backend
from kb.search.lifecycle import drain_if_pending
from kb.search.related_cache import remembered
from kb.search.types import (
    FEW_RESULTS,
    MAX_PAGE,
    SORTS,
    FacetCount,
    Hit,
    SearchRequest,
    SearchResults,
    SearchUnavailableError,
    page_number,
)

__all__ = [
    "FEW_RESULTS",
    "MAX_PAGE",
    "SORTS",
    "FacetCount",
    "Hit",
    "SearchRequest",
    "SearchResults",
    "SearchUnavailableError",
    "page_number",
    "related",
    "search",
    "similar_lessons_elsewhere",
]


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def search(viewer: Viewer, request: SearchRequest) -> SearchResults:
    """Search as `viewer`: a page of results, facet counts and any suggestion, all within what they may see.

    Changes left queued are indexed first when the lock is free soon. Raises
    `SearchUnavailableError` while the backend cannot be read.
    """
    drain_if_pending(_app())
    return backend().search(viewer, request)


def related(viewer: Viewer, entry: Entry, *, limit: int = 5, exclude: Iterable[int] = ()) -> list[Entry]:
    """Up to `limit` entries most like `entry` in their words, among those `viewer` may see.

    The ids found are remembered for a few minutes (`kb.search.related_cache`); the entries
    are loaded through the visibility rule on every call. Empty while search is unavailable.
    """
    excluded = list(exclude)

    def compute() -> list[int]:
        return backend().related_ids(viewer, entry, limit=limit, exclude=excluded)

    try:
        return remembered("related", viewer, entry, limit, excluded, compute)
    except SearchUnavailableError:
        return []


def similar_lessons_elsewhere(
    viewer: Viewer, lesson: Lesson, *, limit: int = 5, exclude: Iterable[int] = ()
) -> list[Entry]:
    """Lessons like this one from another region or another year: the same problem seen again.

    Remembered like `related`.
    """
    excluded = list(exclude)

    def compute() -> list[int]:
        return backend().similar_lesson_ids(viewer, lesson, limit=limit, exclude=excluded)

    try:
        return remembered("elsewhere", viewer, lesson, limit, excluded, compute)
    except SearchUnavailableError:
        return []
