"""The Atom feeds: everything, each kind, a theme, a tag, a review's work, and any search.

Every feed is read as `reader.find_reader` says (anyone, or a personal feed token's
owner) and holds only what that reader may see; an unknown subject, or one hidden from
the reader, answers 404 as its page does. With a token the answer is private and never
stored or referred on; without one, caches may keep it for a few minutes. No feed
request signs anyone in or sets a session cookie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.wrappers import Response

from kb.entries.vocabulary import KIND_LIST_TITLES
from kb.feeds import pages, queries
from kb.feeds.builder import FeedItem, atom, consultation_item, entry_item, finding_item, newest_first
from kb.feeds.reader import TOKEN_ARG, asks_with_token, feed_viewer, find_reader
from kb.search.routes import read_request, search_url
from kb.search.service import SearchUnavailableError, search
from kb.states import EntryKind, EntryStatus
from kb.taxonomy.curation import tag_for_alias

blueprint = Blueprint("feeds", __name__)
pages.register(blueprint)
KIND_BY_PLURAL = {"lessons": EntryKind.LESSON, "reviews": EntryKind.REVIEW, "papers": EntryKind.PAPER}
ATOM_TYPE = "application/atom+xml; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"
REFUSED_ADDRESS = (
    "This personal feed address does not work: its token is wrong, was revoked or has expired, "
    "or its account is no longer active. Make a new feed address on your account page.\n"
)


@blueprint.before_request
def _check_reader() -> Response | None:
    """Refuse a feed token that does not work before anything is read: 403 with no content."""
    if find_reader() is None:
        return Response(REFUSED_ADDRESS, 403, content_type=TEXT_TYPE)
    return None


@blueprint.errorhandler(404)
def _no_such_feed(_error: Exception) -> Response:
    """A feed whose subject is missing or hidden from the reader: a short plain answer, the same for both."""
    return Response("There is no such feed.\n", 404, content_type=TEXT_TYPE)


@blueprint.after_request
def _feed_headers(response: Response) -> Response:
    """Private and unreferred with a token, briefly cacheable without (`kb.cookieless` keeps cookies out)."""
    if asks_with_token():
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex"
    elif response.status_code == 200:
        response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


def _with_token(endpoint: str, slug: str) -> str:
    """The address of another feed for the same reader (the token kept when one was given)."""
    if asks_with_token():
        return url_for(endpoint, slug=slug, token=request.args.get(TOKEN_ARG, ""))
    return url_for(endpoint, slug=slug)


def _answer(title: str, path: str, page_path: str, items: Sequence[FeedItem]) -> Response:
    document = atom(title=title, path=path, page_path=page_path, items=items)
    return Response(document, 200, content_type=ATOM_TYPE)


@blueprint.get("/feeds/all.atom")
def everything() -> Response:
    """What is new across kb: lessons, reviews and papers, the most recently changed first."""
    items = [entry_item(entry) for entry in queries.latest_entries(feed_viewer())]
    return _answer("Everything new", url_for(".everything"), url_for("entries.home"), items)


@blueprint.get("/feeds/<any(lessons, reviews, papers):plural>.atom")
def kind(plural: str) -> Response:
    """What is new of one kind of entry."""
    found = queries.latest_entries(feed_viewer(), KIND_BY_PLURAL[plural])
    title = KIND_LIST_TITLES[KIND_BY_PLURAL[plural]]
    page = url_for("entries.list_kind", plural=plural)
    return _answer(title, url_for(".kind", plural=plural), page, [entry_item(entry) for entry in found])


@blueprint.get("/feeds/themes/<slug>.atom")
def theme(slug: str) -> Response:
    """What is new under one theme: entries carrying any of its tags."""
    found = queries.find_theme(slug)
    if found is None:
        abort(404)
    items = [entry_item(entry) for entry in queries.theme_entries(feed_viewer(), found)]
    page = url_for("taxonomy.theme", slug=found.slug)
    return _answer(f"Theme: {found.label}", url_for(".theme", slug=found.slug), page, items)


@blueprint.get("/feeds/tags/<slug>.atom")
def tag(slug: str) -> Response:
    """What is new with one tag; a renamed or merged tag's old feed address leads to its new one."""
    viewer = feed_viewer()
    found = queries.find_tag(viewer, slug)
    if found is None:
        renamed = tag_for_alias(slug)
        if renamed is None or queries.find_tag(viewer, renamed.slug) is None:
            abort(404)
        return redirect(_with_token(".tag", slug=renamed.slug), code=301)
    items = [entry_item(entry) for entry in queries.tag_entries(viewer, found)]
    page = url_for("taxonomy.tag", slug=found.slug)
    return _answer(f"Tag: {found.label}", url_for(".tag", slug=found.slug), page, items)


@blueprint.get("/feeds/reviews/<slug>.atom")
def review(slug: str) -> Response:
    """A review's work as it appears: its papers, its published findings and its consultations."""
    viewer = feed_viewer()
    found = queries.find_review(viewer, slug)
    if found is None:
        abort(404)
    items = [
        *(entry_item(paper) for paper in queries.review_papers(viewer, found)),
        *(finding_item(found, finding) for finding in queries.review_findings(viewer, found)),
        *(consultation_item(consultation) for consultation in queries.review_consultations(viewer, found)),
    ]
    shown = newest_first(items)[: queries.FEED_SIZE]
    return _answer(f"Review: {found.title}", url_for(".review", slug=found.slug), found.path, shown)


@blueprint.get("/feeds/search.atom")
def search_feed() -> Response:
    """Any search, filters included: its first published results as the search page orders them, newest first."""
    wanted = replace(read_request(), page=1, per_page=queries.FEED_SIZE)
    try:
        found = search(feed_viewer(), wanted)
    except SearchUnavailableError:
        return Response("Search is being rebuilt; try again in a minute.\n", 503, {"Retry-After": "30"}, TEXT_TYPE)
    page, path = search_url(wanted), pages.search_feed_url(wanted)
    title = f"Search: {wanted.text.strip()}" if wanted.text.strip() else "Search"
    # Search shows staff and authors their drafts too; a feed, like every other, holds only what is published.
    published = [entry_item(hit.entry) for hit in found.hits if hit.entry.status == EntryStatus.PUBLISHED]
    return _answer(title, path, page, newest_first(published))
