"""Search, facets, suggestions and snippets from the PostgreSQL search documents.

The PostgreSQL side of `kb.search.interface.SearchBackend`'s search (`pg.backend` calls
`search`), with the same results as Whoosh's; related entries are `pg.related`'s. Visibility
is `permissions.visible_entries` itself, joined to every query: totals, facet counts, pages
and suggestions are all counted among the entries the viewer may see, in SQL, before paging.
Results are ranked by `ts_rank_cd` over the weighted document, snippets come from
`ts_headline`, facet counts from one grouped query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from sqlalchemy import ColumnElement, func, literal, or_, select, union_all
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import TSQUERY

from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import Viewer, listed_entries, visible_entries
from kb.search.comment_texts import comments_of_hits
from kb.search.documents import read_texts
from kb.search.fusion import Joining, joining, meaning_ids, ordered
from kb.search.hits import SNIPPET_LABELS, build_hit
from kb.search.interface import EntryIds
from kb.search.link_words import link_readers
from kb.search.pg.headlines import CONFIG as _CONFIG
from kb.search.pg.headlines import HEADLINE_OPTIONS, TITLE_OPTIONS
from kb.search.pg.headlines import best as _best
from kb.search.pg.headlines import clean as _clean
from kb.search.pg.headlines import cues as _cues
from kb.search.pg.headlines import headlines as _headlines
from kb.search.pg.headlines import marked as _marked
from kb.search.pg.headlines import window as _window
from kb.search.pg.headlines import with_ellipses as _with_ellipses
from kb.search.pg.page_hits import page_hits
from kb.search.pg.query import (
    DOCUMENT,
    Compiled,
    compile_query,
    facet_conditions,
    joined,
    with_near_words,
    without_stop_words,
)
from kb.search.pg.ranking import relevance, vocabulary
from kb.search.pg.tables import search_documents
from kb.search.query import ParsedQuery, is_only_negative, parse_user_query, with_compounds
from kb.search.ranking import WORD_DEPTH, broader_query
from kb.search.schema import FACET_FIELDS
from kb.search.snippets import may_match
from kb.search.spelling import correct, edit_distance, split_compound
from kb.search.text import plain_text
from kb.search.types import FEW_RESULTS, FacetCount, Hit, SearchRequest, SearchResults, page_number
from kb.search.visible import load_visible

# Reading a query


def _near_words(word: str, distance: int, prefix: int) -> set[str]:
    """Vocabulary words within `distance` edits of `word` that share its first `prefix` letters."""
    start = word[:prefix]
    escaped = start.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.session.execute(
        sql_text(
            "SELECT word FROM search_words WHERE word LIKE :pattern ESCAPE '\\' "
            "AND length(word) BETWEEN :shortest AND :longest"
        ),
        {"pattern": f"{escaped}%", "shortest": len(word) - distance, "longest": len(word) + distance},
    )
    return {row.word for row in rows if edit_distance(word, row.word) <= distance}


def read_query(text: str, *, group: str = "and") -> ParsedQuery:
    """What was typed, parsed as for Whoosh: `word~` expanded, compounds met, PostgreSQL's stop words dropped."""
    parsed = with_near_words(parse_user_query(text, group=group), _near_words)
    if parsed.units:
        known = vocabulary(db.session(), [word for word, _ in parsed.units])
        parsed = with_compounds(parsed, known.__contains__)
    return without_stop_words(db.session(), parsed)


# Counting and paging


class _Search:
    """One viewer's search among the entries they may see, with the chosen facets."""

    def __init__(self, viewer: Viewer, chosen: dict[str, list[str]]) -> None:
        self.allowed: list[ColumnElement[bool]] = [visible_entries(viewer), *facet_conditions(chosen)]
        self.meaning: list[int] = []
        """Entries close in meaning that count as matches too (set once the words' matches are settled)."""
        self.joining = Joining.FUSED
        """How they join the word order by relevance."""

    def conditions(self, compiled: Compiled | None) -> list[ColumnElement[bool]]:
        if compiled is None:
            return self.allowed
        if self.meaning:
            return [*self.allowed, or_(compiled.condition, search_documents.c.entry_id.in_(self.meaning))]
        return [*self.allowed, compiled.condition]

    def visible(self, entry_ids: Sequence[int]) -> list[int]:
        """Those of `entry_ids` allowed here (visible, in the chosen facets), in the same order, each once."""
        if not entry_ids:
            return []
        query = joined(select(search_documents.c.entry_id)).where(
            *self.allowed, search_documents.c.entry_id.in_(entry_ids)
        )
        found = set(db.session.scalars(query))
        return list(dict.fromkeys(entry_id for entry_id in entry_ids if entry_id in found))

    def total(self, compiled: Compiled | None) -> int:
        return db.session.scalar(joined(select(func.count())).where(*self.conditions(compiled))) or 0

    def page(
        self, compiled: Compiled | None, parsed: ParsedQuery, sort: str, page: int, per_page: int
    ) -> list[tuple[int, bool]]:
        """The (entry id, whether it was indexed with document pages) of one page of results, in order."""
        query = joined(select(search_documents.c.entry_id, search_documents.c.has_pages))
        query = query.where(*self.conditions(compiled))
        ranking = compiled.ranking if compiled is not None else None
        by_score = sort == "relevance" and ranking is not None and not is_only_negative(parsed.query)
        if by_score and compiled is not None and ranking is not None:
            return self._by_relevance(compiled, parsed, ranking, page, per_page)
        if sort == "oldest":
            query = query.order_by(search_documents.c.sort_date, search_documents.c.entry_id)
        else:
            query = query.order_by(search_documents.c.sort_date.desc(), search_documents.c.entry_id.desc())
        return [
            (row.entry_id, row.has_pages)
            for row in db.session.execute(query.offset((page - 1) * per_page).limit(per_page))
        ]

    def _by_relevance(
        self, compiled: Compiled, parsed: ParsedQuery, ranking: ColumnElement[str], page: int, per_page: int
    ) -> list[tuple[int, bool]]:
        """A page by relevance: the words' best `WORD_DEPTH` (or up to the page) fused with the meaning order."""
        order = relevance(parsed, ranking)
        query = joined(select(search_documents.c.entry_id)).where(*self.allowed, compiled.condition)
        query = query.order_by(order.desc(), search_documents.c.sort_date.desc(), search_documents.c.entry_id)
        depth = max(WORD_DEPTH, page * per_page)
        by_words = list(db.session.scalars(query.limit(depth)))
        ids = ordered(by_words, self.meaning, self.joining)[(page - 1) * per_page : page * per_page]
        if not ids:
            return []
        rows = db.session.execute(
            select(search_documents.c.entry_id, search_documents.c.has_pages).where(
                search_documents.c.entry_id.in_(ids)
            )
        )
        has_pages = {row.entry_id: row.has_pages for row in rows}
        return [(entry_id, has_pages.get(entry_id, False)) for entry_id in ids]

    def facets(self, compiled: Compiled | None, chosen: dict[str, list[str]]) -> dict[str, list[FacetCount]]:
        matched = (
            joined(
                select(
                    Entry.kind,
                    Entry.status,
                    search_documents.c.region,
                    search_documents.c.year,
                    search_documents.c.tags,
                    search_documents.c.themes,
                )
            )
            .where(*self.conditions(compiled))
            .cte("matched")
        )
        counted = []
        for name in ("kind", "status", "region", "year"):
            value = matched.c[name]
            counted.append(
                select(literal(name).label("facet"), value.label("value"), func.count().label("n"))
                .where(value != "")
                .group_by(value)
            )
        for name, array in (("tag", matched.c.tags), ("theme", matched.c.themes)):
            each = select(func.unnest(array).label("value")).subquery()
            counted.append(
                select(literal(name).label("facet"), each.c.value, func.count().label("n")).group_by(each.c.value)
            )
        counts: dict[str, dict[str, int]] = {name: {} for name in FACET_FIELDS}
        for facet, value, number in db.session.execute(union_all(*counted)):
            counts[facet][value] = number
        facets: dict[str, list[FacetCount]] = {}
        for name in FACET_FIELDS:
            selected = set(chosen.get(name, ()))
            facets[name] = [
                FacetCount(value=value, count=counts[name].get(value, 0), selected=value in selected)
                for value in sorted(set(counts[name]) | selected)
            ]
        return facets

    def frequency(self, word: str) -> int:
        """How many of the allowed entries hold `word` (0 for a word PostgreSQL drops)."""
        tsquery = func.websearch_to_tsquery(_CONFIG, word, type_=TSQUERY)
        query = joined(select(func.count())).where(
            *self.allowed, func.numnode(tsquery) > 0, DOCUMENT.bool_op("@@")(tsquery)
        )
        return db.session.scalar(query) or 0


def visible_entry_ids(viewer: Viewer, facets: dict[str, list[str]] | None = None, *, listed: bool = False) -> EntryIds:
    """The ids of the entries with a document that `viewer` may see (`listed`: may list) and all chosen `facets`."""
    rule = listed_entries(viewer) if listed else visible_entries(viewer)
    query = joined(select(search_documents.c.entry_id)).where(rule, *facet_conditions(facets or {}))
    ids = db.session.execute(query.order_by(search_documents.c.entry_id)).scalars().all()
    return np.array(ids, dtype=np.int64)


def _is_known(word: str) -> bool:
    """Whether some document (any, visible or not) holds `word`, or PostgreSQL drops it as a stop word.

    A word the vocabulary has as two words written together (`golive`) counts as known too.
    """
    query = sql_text(
        "SELECT numnode(tsq) = 0 OR EXISTS (SELECT 1 FROM search_documents WHERE document @@ tsq) "
        "FROM websearch_to_tsquery('english', :word) AS tsq"
    )
    if db.session.scalar(query, {"word": word}):
        return True
    known = vocabulary(db.session(), [word])
    return split_compound(word, known.__contains__) is not None


def _suggest(scope: _Search, parsed: ParsedQuery, found: int) -> tuple[str, ParsedQuery, Compiled | None, int] | None:
    """A corrected query from the visible entries' words that finds more of them, if there is one."""
    if parsed.query is None:
        return None
    corrected_text = correct(
        parsed.typed, _is_known, lambda word, distance: _near_words(word, distance, 1), scope.frequency
    )
    if corrected_text is None:
        return None
    corrected = read_query(corrected_text)
    compiled = compile_query(corrected)
    if compiled is None:
        return None
    total = scope.total(compiled)
    return (" ".join(corrected_text.split()), corrected, compiled, total) if total > found else None


def search(viewer: Viewer, request: SearchRequest) -> SearchResults:
    """Search as `viewer` from the PostgreSQL documents: a page of results, facet counts and any suggestion."""
    scope = _Search(viewer, request.facets)
    parsed = read_query(request.text)
    query_words = len(parsed.units)
    compiled = compile_query(parsed)
    total = scope.total(compiled)
    results = SearchResults(request=request, parsed=parsed, hits=[], total=total, facets={})
    if parsed.query is not None and total < FEW_RESULTS and not request.exact:
        suggestion = _suggest(scope, parsed, total)
        if suggestion is not None and not total:
            results.corrected_from = parsed.text
            _, parsed, compiled, total = suggestion
        elif suggestion is not None:
            results.suggestion = suggestion[0]
    results.with_every_word = total
    wide = parsed.query is not None and not request.exact
    broader = broader_query(parsed, total, lambda text: read_query(text, group="or")) if wide else None
    broader_compiled = compile_query(broader) if broader is not None else None
    if broader is not None and broader_compiled is not None:
        broader_total = scope.total(broader_compiled)
        if broader_total > total:
            results.broadened, parsed, compiled, total = True, broader, broader_compiled, broader_total
    scope.joining = joining(query_words, results.with_every_word, total)
    if compiled is not None and scope.joining is not Joining.NOT:
        scope.meaning = scope.visible(meaning_ids(request))
        total = scope.total(compiled) if scope.meaning else total
    results.parsed = parsed
    results.total = total
    results.facets = scope.facets(compiled, request.facets)
    sort = request.sort if parsed.query is not None or request.sort != "relevance" else "newest"
    rows = scope.page(compiled, parsed, sort, page_number(request, total), request.per_page) if total else []
    ids = [entry_id for entry_id, _ in rows]
    entries = load_visible(viewer, ids)
    if compiled is not None and compiled.ranking is not None:
        results.hits = _hits(entries, compiled, {entry_id for entry_id, has_pages in rows if has_pages})
    else:
        results.hits = [build_hit(entry, set()) for entry in entries]
    return results


# Snippets


def _hits(entries: list[Entry], compiled: Compiled, paged: set[int]) -> list[Hit]:
    """Each entry with its title marked, a snippet from its part (or readable comment) with most matches, its pages."""
    ranking = compiled.ranking
    assert ranking is not None
    titles = _headlines(ranking, [(entry.id, "title", _clean(entry.title)) for entry in entries], TITLE_OPTIONS)
    cues = _cues(compiled)
    links = link_readers(entries)
    texts = {
        (entry.id, key): _clean(text)
        for entry in entries
        for key, text in read_texts(entry, links[entry.id]).items()
        if may_match(text, cues)  # A part without a cue cannot give a snippet.
    }
    rows = [(entry_id, key, window) for (entry_id, key), body in texts.items() if (window := _window(body, cues))]
    headlines = _headlines(ranking, rows, HEADLINE_OPTIONS)
    by_entry: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for (entry_id, key), headline in headlines.items():
        by_entry[entry_id].append((key, headline))
    pages = page_hits({entry.id: entry.path for entry in entries if entry.id in paged}, compiled)
    hits: dict[int, Hit] = {}
    unmatched: list[Entry] = []
    for entry in entries:
        title = _marked(titles.get((entry.id, "title"), entry.title))
        best = _best(by_entry[entry.id])
        if best is None:
            if entry.id not in pages:  # Words only on pages: the pages say where, not a comment.
                unmatched.append(entry)
            summary = build_hit(entry, set(), links=links[entry.id]).snippet
            hits[entry.id] = Hit(entry, title, summary, None, entry.path, pages.get(entry.id, ()))
            continue
        key, headline = best
        snippet = _with_ellipses(texts[entry.id, key], headline)
        hits[entry.id] = Hit(entry, title, snippet, SNIPPET_LABELS[key], entry.path, pages.get(entry.id, ()))
    for entry_id, hit in _comment_hits(unmatched, compiled, hits).items():
        hits[entry_id] = hit
    return [hits[entry.id] for entry in entries]


def _comment_hits(entries: list[Entry], compiled: Compiled, hits: dict[int, Hit]) -> dict[int, Hit]:
    """Hits remade from the readable comment with most matches, for entries whose own texts had none."""
    if not entries:
        return {}
    cues = _cues(compiled)
    comments = comments_of_hits(db.session(), [entry.id for entry in entries], cues)
    by_id = {comment.id: comment for found in comments.values() for comment in found}
    bodies = {comment_id: _clean(plain_text(comment.body)) for comment_id, comment in by_id.items()}
    rows = [
        (comment.entry_id, str(comment.id), window)
        for comment in by_id.values()
        if (window := _window(bodies[comment.id], cues))
    ]
    headlines = _headlines(compiled.ranking, rows, HEADLINE_OPTIONS) if compiled.ranking is not None else {}
    by_entry: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for (entry_id, key), headline in headlines.items():
        by_entry[entry_id].append((key, headline))
    remade: dict[int, Hit] = {}
    for entry in entries:
        best = _best(by_entry[entry.id])
        if best is None:
            continue
        comment = by_id[int(best[0])]
        snippet = _with_ellipses(bodies[comment.id], best[1])
        label = f"Comment by {comment.author}"
        remade[entry.id] = Hit(entry, hits[entry.id].title, snippet, label, comment.link(entry.path))
    return remade
