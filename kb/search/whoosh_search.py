"""Searching the Whoosh index: results with facets, suggestions and snippets; related entries.

The Whoosh side of `kb.search.interface.SearchBackend` (`whoosh_backend` calls these). Every
call takes a `Viewer` and builds the visibility filter from it
(`permissions.index_visibility_filter`), a Whoosh query whose document set is computed once per
searcher and passed to Whoosh as the search's filter. Nothing is filtered after paging:
results, totals, facet counts, suggestions and snippets all come from entries inside
that set. Entries shown are then loaded from the database through the same rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from sqlalchemy.exc import SQLAlchemyError
from whoosh import query as q

from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.permissions import Viewer, index_listing_filter, index_visibility_filter
from kb.search.comment_texts import comments_of_hits
from kb.search.corrections import corrected_text, with_fuzzy_words
from kb.search.docsets import (
    NO_ENTRY,
    docset,
    entry_ids_by_docnum,
    facet_values,
    forget_old_segments,
    live_segments,
    query_docs,
)
from kb.search.documents import entry_date, weighted_parts
from kb.search.fusion import Joining, joining, meaning_ids, ordered
from kb.search.hits import build_hit, build_page_hits, matched_in_entry, positive_terms
from kb.search.interface import EntryIds
from kb.search.link_words import link_readers
from kb.search.page_texts import pages_of_hits
from kb.search.query import (
    ParsedQuery,
    facet_filter,
    is_only_negative,
    parse_user_query,
    with_compounds,
)
from kb.search.ranking import WORD_DEPTH, broader_query
from kb.search.schema import FACET_FIELDS
from kb.search.snippets import CUE_LETTERS
from kb.search.storage import SearcherState
from kb.search.text import LinkWords, facet_key
from kb.search.types import (
    FEW_RESULTS,
    MAX_PAGE,
    FacetCount,
    Hit,
    IndexUnavailableError,
    SearchRequest,
    SearchResults,
    SearchUnavailableError,
    page_number,
)
from kb.search.visible import load_visible
from kb.search.whoosh_ranking import meaning_docnums, word_order
from kb.states import EntryKind

if TYPE_CHECKING:
    from kb.search.whoosh_backend import WhooshBackend

log = logging.getLogger(__name__)
T = TypeVar("T")

RELATED_KEY_TERMS = 12


def _state(whoosh: WhooshBackend) -> SearcherState:
    try:
        state = whoosh.store.searcher_state()
    except IndexUnavailableError as problem:
        whoosh.ensure_ready()
        raise SearchUnavailableError(str(problem)) from problem
    if "segments" not in state.cache:
        state.cache["segments"] = live_segments(state)
        forget_old_segments(state.cache["segments"])
    return state


def _on_index(whoosh: WhooshBackend, work: Callable[[SearcherState], T]) -> T:
    """Run `work` on this thread's searcher; when reading fails, once more on a freshly opened one.

    Another process's merge deletes the files of the segments it merged once its new
    version is committed; a searcher opened on the version before, which has not yet
    opened those files, finds them gone. The current version has what it needs, so one
    failure is retried on it. A second failure is the index's own: the reader gets "search
    is being rebuilt", never an error page, while the whole index is read and rebuilt if
    needed. Database errors are not the index's fault and pass through.
    """
    try:
        return work(_state(whoosh))
    except (SearchUnavailableError, SQLAlchemyError):
        raise
    except Exception as error:
        log.info("Reading the search index failed (%s); trying again on its latest version", type(error).__name__)
    whoosh.store.close_searchers()
    try:
        return work(_state(whoosh))
    except (SearchUnavailableError, SQLAlchemyError):
        raise
    except Exception as error:
        log.exception("Reading the search index failed")
        whoosh.index_failed()
        raise SearchUnavailableError(f"the search index could not be read: {error}") from error


def facet_counts(
    state: SearcherState, matched: frozenset[int], chosen: dict[str, list[str]]
) -> dict[str, list[FacetCount]]:
    """For each facet field, its values with how many of `matched` carry each.

    Values no result has are left out, except chosen ones, which are always listed
    (whether or not any entry has them, so the page tells nothing about hidden ones).
    """
    facets: dict[str, list[FacetCount]] = {}
    for fieldname in FACET_FIELDS:
        selected = set(chosen.get(fieldname, ()))
        counts = []
        for value in sorted(set(facet_values(state, fieldname)) | selected):
            count = len(matched & docset(state, q.Term(fieldname, value)))
            if count or value in selected:
                counts.append(FacetCount(value=value, count=count, selected=value in selected))
        facets[fieldname] = counts
    return facets


# Searching


def _matched(state: SearcherState, parsed: ParsedQuery, allowed: frozenset[int]) -> frozenset[int]:
    if parsed.query is None:
        return allowed
    if is_only_negative(parsed.query):
        return allowed & query_docs(state, parsed.query)
    return allowed & frozenset(state.searcher.docs_for_query(parsed.query))


def _by_date(state: SearcherState, matched: frozenset[int], request: SearchRequest, sort: str) -> list[int]:
    """The document numbers of the requested page among `matched`, newest (or oldest) first."""
    if not matched:  # Whoosh reads an empty filter as no filter at all.
        return []
    page = page_number(request, len(matched))
    limit = page * request.per_page
    results = state.searcher.search(
        q.Every(), filter=set(matched), limit=limit, terms=False, sortedby="date", reverse=sort != "oldest"
    )
    return [hit.docnum for hit in results[(page - 1) * request.per_page : limit]]


def _words_matched(state: SearcherState, parsed: ParsedQuery, allowed: frozenset[int], depth: int) -> _Words:
    """The visible matches of the words, and (ranking by them) the best `depth` of them in order."""
    if parsed.query is None or is_only_negative(parsed.query):
        return _Words(_matched(state, parsed, allowed), [], ranked=False)
    matched, order = word_order(state, parsed, allowed, depth)
    return _Words(matched, order, ranked=True)


class _Words:
    """What the words found: every match, and the best ones in order when they rank."""

    def __init__(self, matched: frozenset[int], order: list[int], *, ranked: bool) -> None:
        self.matched, self.order, self.ranked = matched, order, ranked


def _page(
    state: SearcherState,
    words: _Words,
    meaning: list[int],
    how: Joining,
    matched: frozenset[int],
    request: SearchRequest,
) -> list[int]:
    """The requested page of `matched`: by relevance, the word order fused with the meaning order; else by date."""
    sort = request.sort if words.ranked or request.sort != "relevance" else "newest"
    if sort != "relevance":
        return _by_date(state, matched, request, sort)
    order = ordered(words.order, meaning, how)
    start = (page_number(request, len(matched)) - 1) * request.per_page
    return order[start : start + request.per_page]


def _load_visible(viewer: Viewer, state: SearcherState, docnums: list[int]) -> tuple[list[Entry], set[int]]:
    """The entries of `docnums` the viewer may see, in order, and the ids of those indexed with document pages."""
    stored = [state.searcher.stored_fields(docnum) for docnum in docnums]
    entries = load_visible(viewer, [int(fields["id"]) for fields in stored])
    return entries, {int(fields["id"]) for fields in stored if fields.get("pages")}


def _suggest(
    state: SearcherState, parsed: ParsedQuery, allowed: frozenset[int], found: int, read: Callable[[str], ParsedQuery]
) -> tuple[str, ParsedQuery, frozenset[int]] | None:
    """A corrected query from the visible entries' words that finds more of them, if there is one."""
    if parsed.query is None:
        return None
    text = corrected_text(state, parsed.typed, allowed)
    if text is None:
        return None
    corrected = read(text)
    if corrected.query is None:
        return None
    matched = _matched(state, corrected, allowed)
    return (" ".join(text.split()), corrected, matched) if len(matched) > found else None


def search(whoosh: WhooshBackend, viewer: Viewer, request: SearchRequest) -> SearchResults:
    """Search as `viewer`: a page of results, facet counts and any suggestion, all within what they may see.

    Raises `SearchUnavailableError` while there is no readable index.
    """
    return _on_index(whoosh, lambda state: _search(state, viewer, request))


def _search(state: SearcherState, viewer: Viewer, request: SearchRequest) -> SearchResults:
    reader = state.searcher.reader()

    def is_word(word: str) -> bool:
        return ("spell", word) in reader

    def read(text: str, group: str = "and") -> ParsedQuery:
        return with_compounds(with_fuzzy_words(parse_user_query(text, group=group), state.searcher), is_word)

    depth = max(WORD_DEPTH, min(max(request.page, 1), MAX_PAGE) * request.per_page)
    parsed = read(request.text)
    query_words = len(parsed.units)
    allowed = docset(state, index_visibility_filter(viewer)) & docset(state, facet_filter(request.facets))
    words = _words_matched(state, parsed, allowed, depth)
    results = SearchResults(request=request, parsed=parsed, hits=[], total=len(words.matched), facets={})
    if parsed.query is not None and len(words.matched) < FEW_RESULTS and not request.exact:
        suggestion = _suggest(state, parsed, allowed, len(words.matched), read)
        if suggestion is not None and not words.matched:
            results.corrected_from, parsed = parsed.text, suggestion[1]
            words = _words_matched(state, parsed, allowed, depth)
        elif suggestion is not None:
            results.suggestion = suggestion[0]
    results.with_every_word = len(words.matched)
    if parsed.query is not None and not request.exact:
        broader = broader_query(parsed, len(words.matched), lambda text: read(text, "or"))
        broader_words = _words_matched(state, broader, allowed, depth) if broader is not None else None
        if broader is not None and broader_words is not None and len(broader_words.matched) > len(words.matched):
            results.broadened, parsed, words = True, broader, broader_words
    results.parsed = parsed
    how = joining(query_words, results.with_every_word, len(words.matched))
    joins = parsed.query is not None and how is not Joining.NOT
    meaning = meaning_docnums(state, meaning_ids(request), allowed) if joins else []
    matched = words.matched | frozenset(meaning)
    docnums = _page(state, words, meaning, how, matched, request)
    results.total = len(matched)
    results.facets = facet_counts(state, matched, request.facets)
    terms = positive_terms(parsed.query, state.searcher) if parsed.query is not None else set()
    entries, with_pages = _load_visible(viewer, state, docnums)
    links = link_readers(entries)
    hits = [build_hit(entry, terms, links=links[entry.id]) for entry in entries]
    hits = _with_page_snippets(hits, with_pages, terms)
    results.hits = _with_comment_snippets(hits, terms, links)
    return results


def _with_page_snippets(hits: list[Hit], with_pages: set[int], terms: set[str]) -> list[Hit]:
    """Hits listing their best matching document pages (loaded in one query, only when some result has pages)."""
    paged = [hit.entry.id for hit in hits if hit.entry.id in with_pages]
    if not terms or not paged:
        return hits
    pages = pages_of_hits(db.session(), paged, {term[:CUE_LETTERS] for term in terms})
    return [
        replace(hit, pages=build_page_hits(pages[hit.entry.id], terms, hit.entry.path))
        if hit.entry.id in pages
        else hit
        for hit in hits
    ]


def _with_comment_snippets(hits: list[Hit], terms: set[str], links: dict[int, LinkWords]) -> list[Hit]:
    """Hits whose entry texts and pages hold none of the words, remade from their comments (loaded in one query).

    `links` is how each hit's links read (`link_readers`), so remaking a hit looks nothing up.
    """
    unmatched = [hit.entry.id for hit in hits if not matched_in_entry(hit) and not hit.pages]
    if not terms or not unmatched:
        return hits
    comments = comments_of_hits(db.session(), unmatched, {term[:CUE_LETTERS] for term in terms})
    return [
        build_hit(hit.entry, terms, comments[hit.entry.id], links[hit.entry.id]) if hit.entry.id in comments else hit
        for hit in hits
    ]


# The viewer's entries


def visible_entry_ids(
    whoosh: WhooshBackend, viewer: Viewer, facets: dict[str, list[str]] | None = None, *, listed: bool = False
) -> EntryIds:
    """The ids of the entries in `viewer`'s visibility filter (`listed`: listing filter) and all chosen `facets`.

    Worked out once per searcher (a save opens a new one) for each filter and choice of facets.
    """
    rule = index_listing_filter(viewer) if listed else index_visibility_filter(viewer)
    chosen = facet_filter(facets or {})

    def ids_in(state: SearcherState) -> EntryIds:
        key = ("visible entry ids", rule, chosen)
        if key not in state.cache:
            docnums = docset(state, rule) & docset(state, chosen)
            numbers = np.fromiter(docnums, dtype=np.int64, count=len(docnums))
            ids = np.unique(entry_ids_by_docnum(state)[numbers])
            state.cache[key] = ids[ids != NO_ENTRY]
        return state.cache[key]

    return _on_index(whoosh, ids_in)


# Related entries


def _related_docnums(state: SearcherState, entry: Entry, allowed: frozenset[int], limit: int) -> list[int]:
    own = state.searcher.document_number(id=str(entry.id))
    candidates = allowed - {own}
    if not candidates:  # Whoosh reads an empty filter as no filter at all.
        return []
    key = ("related", entry.id, hash(candidates), limit)
    if key not in state.cache:
        results = state.searcher.more_like(
            own if own is not None else -1,
            "text",
            text=weighted_parts(entry),
            top=limit,
            numterms=RELATED_KEY_TERMS,
            filter=set(candidates),
        )
        state.cache[key] = [hit.docnum for hit in results]
    return state.cache[key]


def related_ids(
    whoosh: WhooshBackend, viewer: Viewer, entry: Entry, *, limit: int, exclude: Sequence[int]
) -> list[int]:
    """Ids of up to `limit` entries most like `entry` in their words, among those `viewer` may see, best first."""

    def related_in(state: SearcherState) -> list[int]:
        allowed = docset(state, index_listing_filter(viewer)) - _docnums_of(state, [entry.id, *exclude])
        return _ids_of(state, _related_docnums(state, entry, allowed, limit))

    return _on_index(whoosh, related_in)


def similar_lesson_ids(
    whoosh: WhooshBackend, viewer: Viewer, lesson: Lesson, *, limit: int, exclude: Sequence[int]
) -> list[int]:
    """Ids of lessons like this one from another region or another year: the same problem seen again."""

    def similar_in(state: SearcherState) -> list[int]:
        place_and_time = [q.Term("year", str(entry_date(lesson).year))]
        if lesson.region:
            place_and_time.append(q.Term("region", facet_key(lesson.region)))
        lessons = docset(state, index_listing_filter(viewer)) & docset(state, q.Term("kind", EntryKind.LESSON.value))
        same_place_and_time = docset(state, q.And(place_and_time))
        allowed = lessons - same_place_and_time - _docnums_of(state, [lesson.id, *exclude])
        return _ids_of(state, _related_docnums(state, lesson, allowed, limit))

    return _on_index(whoosh, similar_in)


def _ids_of(state: SearcherState, docnums: list[int]) -> list[int]:
    """The entry ids stored with `docnums` (read inside `_on_index`: the index may fail here too)."""
    return [int(state.searcher.stored_fields(docnum)["id"]) for docnum in docnums]


def _docnums_of(state: SearcherState, entry_ids: Iterable[int]) -> frozenset[int]:
    numbers = (state.searcher.document_number(id=str(entry_id)) for entry_id in entry_ids)
    return frozenset(number for number in numbers if number is not None)
