"""The search page and its help page; reading a search from the URL and writing it back."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from kb.comments.queries import comment_counts
from kb.pages import int_arg
from kb.pagination import Page, pagination_params
from kb.permissions import current_viewer
from kb.search.facets import FACET_TITLES, chosen_facets, facet_labels, ordered_facets
from kb.search.service import SORTS, SearchRequest, SearchUnavailableError, search

blueprint = Blueprint("search", __name__)

MAX_FACET_VALUES = 10
"""Values a facet shows before the rest are folded under "more"."""


def read_request() -> SearchRequest:
    """The search asked for in the query string; anything unrecognised is ignored."""
    sort = request.args.get("sort", "")
    text = request.args.get("q", "")
    return SearchRequest(
        text=text,
        facets=chosen_facets(request.args),
        sort=sort if sort in SORTS else ("relevance" if text.strip() else "newest"),
        page=int_arg("page", 1) or 1,
        per_page=current_app.config["RESULTS_PER_PAGE"],
        exact=request.args.get("exact") == "1",
    )


def search_url(wanted: SearchRequest, **changes: Any) -> str:
    """The bookmarkable URL of `wanted` with some arguments changed (page resets unless given)."""
    args: dict[str, Any] = {
        "q": wanted.text or None,
        "sort": wanted.sort,
        **{k: list(v) for k, v in wanted.facets.items()},
    }
    args["sort"] = None if args["sort"] == ("relevance" if wanted.text.strip() else "newest") else args["sort"]
    args.update(changes)
    return url_for("search.results", **{key: value for key, value in args.items() if value not in (None, [], "")})


def toggle_url(wanted: SearchRequest, fieldname: str, value: str) -> str:
    """The URL that adds `value` to the chosen facets, or removes it when it is already chosen."""
    values = set(wanted.facets.get(fieldname, []))
    values ^= {value}
    return search_url(wanted, **{fieldname: sorted(values)})


@blueprint.get("/search")
def results() -> tuple[str, int, dict[str, str]] | str:
    """Search: one box, results with snippets, facets that combine as filters, sorting and pages."""
    wanted = read_request()
    viewer = current_viewer()
    try:
        found = search(viewer, wanted)
    except SearchUnavailableError:
        unavailable = render_template("search/unavailable.html", wanted=wanted)
        return unavailable, 503, {"Retry-After": "30"}
    page = Page(found.hits, found.page, wanted.per_page, found.total)
    labels = facet_labels(found)
    return render_template(
        "search/results.html",
        wanted=wanted,
        found=found,
        page=page,
        labels=labels,
        facets=ordered_facets(found, labels),
        facet_titles=FACET_TITLES,
        max_facet_values=MAX_FACET_VALUES,
        search_url=search_url,
        toggle_url=toggle_url,
        clear_filters_url=search_url(replace(wanted, facets={})),
        pagination=pagination_params(page, lambda number: search_url(wanted, page=number)),
        comment_counts=comment_counts(viewer, [hit.entry.id for hit in found.hits]),
    )


@blueprint.get("/search/help")
def help_page() -> str:
    """How to write a search: words, phrases, AND/OR/NOT, prefixes, misspellings and fields."""
    return render_template("search/help.html")
