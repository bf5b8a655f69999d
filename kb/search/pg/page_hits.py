"""The document pages a PostgreSQL result lists: the pages with most marked words, each with its headline.

Pages are read only for the entries of the page of results indexed with document pages
(`search_documents.has_pages`, read with the page of results), and of those only the pages
holding a searched word's first letters, so a results page without documents costs nothing more.
"""

from __future__ import annotations

from collections import defaultdict

from kb.extensions import db
from kb.search.page_texts import PageText, pages_of_hits
from kb.search.pg.headlines import HEADLINE_OPTIONS, MARK_START, clean, cues, headlines, window, with_ellipses
from kb.search.pg.query import Compiled
from kb.search.types import MAX_PAGE_HITS, PageHit


def page_hits(entries: dict[int, str], compiled: Compiled) -> dict[int, tuple[PageHit, ...]]:
    """The best matching pages (at most `MAX_PAGE_HITS`) of each of `entries` (ids to addresses) with pages matching.

    Pass only the entries indexed with pages. A page ranks by how many words its headline
    marks, then by its place in the entry's documents.
    """
    ranking = compiled.ranking
    if ranking is None or not entries:
        return {}
    page_cues = cues(compiled)
    found = pages_of_hits(db.session(), entries, page_cues)
    by_key: dict[str, PageText] = {}
    texts: dict[str, str] = {}
    rows: list[tuple[int, str, str]] = []
    for entry_id, pages in found.items():
        for page in pages:
            key = f"{page.document_id}:{page.number}"
            by_key[key], texts[key] = page, clean(page.text)
            if stretch := window(texts[key], page_cues):
                rows.append((entry_id, key, stretch))
    order = {key: place for place, key in enumerate(by_key)}
    scored: dict[int, list[tuple[int, int, str, str]]] = defaultdict(list)
    for (entry_id, key), headline in headlines(ranking, rows, HEADLINE_OPTIONS).items():
        if marks := headline.count(MARK_START):
            scored[entry_id].append((-marks, order[key], key, headline))
    hits: dict[int, tuple[PageHit, ...]] = {}
    for entry_id, candidates in scored.items():
        best = sorted(candidates)[:MAX_PAGE_HITS]
        hits[entry_id] = tuple(
            PageHit(
                by_key[key].document_title,
                by_key[key].number,
                with_ellipses(texts[key], headline),
                by_key[key].link(entries[entry_id]),
                by_key[key].document_id,
            )
            for _, _, key, headline in best
        )
    return hits
