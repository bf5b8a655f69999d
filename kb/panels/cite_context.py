"""What the two ways of choosing evidence share: the cite pages and the editor's citation picker.

Both find the finding the viewer works on (404 otherwise), search for evidence with the
viewer's visibility, and list one entry's citable parts; they differ only in the page they
render around it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request

from kb.entries.models import Entry, Review
from kb.entries.queries import visible_entry
from kb.panels import queries
from kb.panels.citations import (
    citable_comments,
    citable_documents,
    citable_responses,
    cited_keys,
    cited_pages,
    paper_paragraphs,
)
from kb.panels.models import Finding
from kb.permissions import Viewer, current_viewer
from kb.search.service import SearchRequest, SearchUnavailableError, search
from kb.states import EntryKind

SEARCH_RESULTS = 10
"""Search results shown at once when choosing evidence."""


def working_finding(slug: str, number: int) -> tuple[Review, Finding]:
    """The review and its finding if the viewer works in the review's workspace; else 404."""
    viewer = current_viewer()
    review = queries.workspace_review(viewer, slug)
    finding = queries.visible_finding(viewer, review, number) if review is not None else None
    if review is None or finding is None:
        abort(404)
    return review, finding


def evidence_search(viewer: Viewer, review: Review, finding: Finding, *, page: int = 1) -> dict[str, Any]:
    """The search for evidence named by the request's `q`, with the review's own entries and what is cited already."""
    text = request.args.get("q", "").strip()[:200]
    results, unavailable = None, False
    if text:
        try:
            results = search(viewer, SearchRequest(text=text, page=page, per_page=SEARCH_RESULTS))
        except SearchUnavailableError:
            unavailable = True
    return {
        "text": text,
        "results": results,
        "unavailable": unavailable,
        "review_entries": queries.review_entries(viewer, review),
        "cited": cited_keys(finding),
        "cited_pages": cited_pages(finding),
    }


def citable_parts(viewer: Viewer, review: Review, finding: Finding, entry_slug: str) -> dict[str, Any]:
    """One entry's citable parts the viewer may see: the whole, a paper's paragraphs, pages, comments, responses.

    Raises a 404 when the viewer may not see the entry.
    """
    entry: Entry | None = visible_entry(viewer, entry_slug)
    if entry is None:
        abort(404)
    return {
        "entry": entry,
        "paragraphs": paper_paragraphs(entry) if entry.kind == EntryKind.PAPER else [],
        "documents": citable_documents(entry),
        "comments": citable_comments(viewer, entry),
        "responses": citable_responses(viewer, review, entry),
        "cited": cited_keys(finding),
        "cited_pages": cited_pages(finding),
    }
