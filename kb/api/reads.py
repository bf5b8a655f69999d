"""The API's reads: entries, an entry's comments, search, reviews with findings, consultations.

Each view checks its query parameters (an unknown one, a bad limit or cursor answers
400), loads through the visibility rule (hidden or missing answers 404, the same for both)
and answers JSON made by `kb.api.shapes`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from urllib.parse import urlencode

from flask import request
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from kb.api import shapes
from kb.api.auth import api_viewer
from kb.api.blueprint import blueprint
from kb.api.cursors import allow_only, make_cursor, read_cursor, read_limit, single
from kb.api.problems import ApiProblem, json_response
from kb.comments.queries import ThreadComment, thread_comments
from kb.consultations.models import Consultation
from kb.consultations.queries import response_of, visible_consultation
from kb.consultations.windows import OPEN, STATES, UPCOMING
from kb.dates import utcnow
from kb.documents.pages import entry_documents
from kb.entries import queries as entry_queries
from kb.entries.models import Entry, Review
from kb.entries.service import current_revision
from kb.extensions import db
from kb.panels.queries import findings_of
from kb.permissions import Viewer, listed_entries, visible_consultations
from kb.search.facets import chosen_facets, facet_labels, ordered_facets
from kb.search.schema import FACET_FIELDS
from kb.search.service import MAX_PAGE, SORTS, SearchRequest, search
from kb.states import EntryKind, FindingStatus
from kb.taxonomy.models import Tag

COMMENT_LAYOUTS = ("flat", "threaded")
CONSULTATION_STATES = tuple(STATES)


def _choice(name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    value = single(name)
    if value is not None and value not in allowed:
        raise ApiProblem(400, f"The {name} is not one kb knows.", errors={name: f"Give one of: {', '.join(allowed)}."})
    return value


def _entry(slug: str) -> Entry:
    entry = entry_queries.visible_entry(api_viewer(), slug)
    if entry is None:
        raise ApiProblem(404, "There is no entry with that slug, or you may not see it.")
    return entry


def _page(items: list[dict[str, object]], next_position: int | None, listing: str) -> Response:
    cursor = make_cursor(listing, next_position) if next_position is not None else None
    return json_response({"items": items, "next_cursor": cursor, "next": _next_link(cursor)})


def _next_link(cursor: str | None) -> str | None:
    """The address of the next page: this request's parameters with the next cursor."""
    if cursor is None:
        return None
    args = [(name, value) for name, value in request.args.items(multi=True) if name != "cursor"]
    return shapes.absolute(request.path) + "?" + urlencode([*args, ("cursor", cursor)])


@blueprint.get("/entries")
def entries() -> Response:
    """Entries the viewer may see, newest first, by kind, theme or tag; a page at a time."""
    allow_only("kind", "theme", "tag", "limit", "cursor")
    kind = _choice("kind", [str(value) for value in EntryKind])
    theme, tag = single("theme"), single("tag")
    limit, after = read_limit(), read_cursor("entries")
    query = select(Entry).where(listed_entries(api_viewer())).options(selectinload(Entry.tags))
    if kind:
        query = query.where(Entry.kind == kind)
    if theme:
        query = query.where(Entry.tags.any(Tag.theme.has(slug=theme)))
    if tag:
        query = query.where(Entry.tags.any(Tag.slug == tag))
    if after is not None:
        query = query.where(Entry.id < after)
    found = list(db.session.scalars(query.order_by(Entry.id.desc()).limit(limit + 1)))
    shown = found[:limit]
    more = len(found) > limit
    return _page([shapes.entry_summary(entry) for entry in shown], shown[-1].id if more else None, "entries")


@blueprint.get("/entries/<slug>")
def entry(slug: str) -> Response:
    """One entry with its sections, tags, documents and revisions."""
    allow_only()
    found = _entry(slug)
    revision = current_revision(found)
    rendered = revision.rendered if revision is not None else {}
    files = entry_documents(api_viewer(), found)["documents"].current
    return json_response(shapes.entry_detail(found, rendered, files, entry_queries.revisions_of(found)))


@blueprint.get("/entries/<slug>/comments")
def comments(slug: str) -> Response:
    """An entry's comments, oldest first: flat with parent ids, or threaded (replies nested under each top comment)."""
    allow_only("layout", "limit", "cursor")
    layout = _choice("layout", COMMENT_LAYOUTS) or "flat"
    limit, after = read_limit(), read_cursor(f"comments-{layout}")
    found = _entry(slug)
    viewer = api_viewer()
    rows = sorted(thread_comments(found), key=lambda row: row.id)
    known = {row.id for row in rows}
    tops = rows if layout == "flat" else [row for row in rows if row.parent_id not in known]
    if after is not None:
        tops = [row for row in tops if row.id > after]
    shown, more = tops[:limit], len(tops) > limit
    if layout == "flat":
        items = [shapes.comment(row, viewer) for row in shown]
    else:
        items = [_threaded(row, rows, viewer) for row in shown]
    return _page(items, shown[-1].id if more else None, f"comments-{layout}")


def _threaded(top: ThreadComment, rows: list[ThreadComment], viewer: Viewer) -> shapes.Json:
    """`top` with its replies nested under it, each level oldest first."""
    children: dict[int | None, list[ThreadComment]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    root = shapes.comment(top, viewer)
    stack = [(root, top)]
    while stack:  # iterative: a thread may be thousands of replies deep
        shown, row = stack.pop()
        replies: list[shapes.Json] = []
        shown["replies"] = replies
        for reply in children.get(row.id, []):
            child = shapes.comment(reply, viewer)
            replies.append(child)
            stack.append((child, reply))
    return root


SEARCH_DEPTH = 1000
"""How far search results can be paged: the first results only (`total` still counts them all)."""
SEARCH_PAGE = SEARCH_DEPTH // MAX_PAGE
"""The least page size asked of the search service, so every result up to `SEARCH_DEPTH` is within its pages."""


def _search_binding(wanted: SearchRequest) -> str:
    """A short digest of what a search asks (words, filters, order), to which its cursors are bound."""
    asked = [wanted.text, sorted(wanted.facets.items()), wanted.sort, wanted.exact]
    return hashlib.sha256(json.dumps(asked).encode("utf-8", "surrogatepass")).hexdigest()[:16]


@blueprint.get("/search")
def search_entries() -> Response:
    """Search as the search page does: words, the page's filters, sort; results with facets and a suggestion."""
    allow_only("q", "sort", "exact", "limit", "cursor", *FACET_FIELDS)
    text = single("q") or ""
    sort = _choice("sort", SORTS) or ("relevance" if text.strip() else "newest")
    exact = _choice("exact", ("true", "false")) == "true"
    limit = read_limit()
    size = max(limit, SEARCH_PAGE)
    wanted = SearchRequest(text=text, facets=chosen_facets(request.args), sort=sort, per_page=size, exact=exact)
    bound = _search_binding(wanted)
    offset = read_cursor("search", bound) or 0
    first = offset // size + 1  # the service's page holding `offset`; the next one too when the window spills over
    found = search(api_viewer(), replace(wanted, page=first))
    end = min(offset + limit, found.total, SEARCH_DEPTH)
    hits = list(found.hits) if found.page == first else []
    if hits and end > first * size:
        following = search(api_viewer(), replace(wanted, page=first + 1))
        hits += following.hits if following.page == first + 1 else []
    start = (first - 1) * size
    shown = hits[offset - start : max(end - start, 0)] if offset < end else []
    labels = facet_labels(found)
    more = bool(shown) and offset + limit < min(found.total, SEARCH_DEPTH)
    cursor = make_cursor("search", offset + limit, bound) if more else None
    body = {
        "items": [shapes.hit(hit) for hit in shown],
        "total": found.total,
        "facets": {
            name: [shapes.facet(count, labels.get(name, {})) for count in counts]
            for name, counts in ordered_facets(found, labels)
        },
        "suggestion": found.suggestion,
        "corrected_from": found.corrected_from,
        "next_cursor": cursor,
        "next": _next_link(cursor),
    }
    return json_response(body)


@blueprint.get("/reviews/<slug>")
def review(slug: str) -> Response:
    """A review with its published findings."""
    allow_only()
    found = _entry(slug)
    if not isinstance(found, Review):
        raise ApiProblem(404, "There is no review with that slug, or you may not see it.")
    published = findings_of(api_viewer(), found, status=FindingStatus.PUBLISHED)
    return json_response({**shapes.entry_summary(found), "findings": [shapes.finding(row) for row in published]})


def _in_state(state: str, now: dt.datetime) -> ColumnElement[bool]:
    """The SQL test of a consultation's state at `now`, as `kb.consultations.windows.state_at` decides it."""
    if state == UPCOMING:
        return Consultation.opens_at > now
    if state == OPEN:
        return and_(Consultation.opens_at <= now, Consultation.closes_at > now)
    return and_(Consultation.opens_at <= now, Consultation.closes_at <= now)


@blueprint.get("/consultations")
def consultations() -> Response:
    """Consultations the viewer may see, newest first, by state (open, upcoming, closed)."""
    allow_only("state", "limit", "cursor")
    state = _choice("state", CONSULTATION_STATES)
    limit, after = read_limit(), read_cursor("consultations")
    query = select(Consultation).where(visible_consultations(api_viewer())).options(selectinload(Consultation.entry))
    if after is not None:
        query = query.where(Consultation.id < after)
    if state is not None:
        query = query.where(_in_state(state, utcnow()))
    found = list(db.session.scalars(query.order_by(Consultation.id.desc()).limit(limit + 1)))
    shown, more = found[:limit], len(found) > limit
    return _page([shapes.consultation(row) for row in shown], shown[-1].id if more else None, "consultations")


@blueprint.get("/consultations/<int:consultation_id>")
def consultation(consultation_id: int) -> Response:
    """A consultation with its questions and the viewer's own response."""
    allow_only()
    viewer = api_viewer()
    found = visible_consultation(viewer, consultation_id)
    if found is None:
        raise ApiProblem(404, "There is no consultation with that number, or you may not see it.")
    return json_response(shapes.consultation_detail(found, response_of(found, viewer.user_id)))
