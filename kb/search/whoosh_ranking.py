"""Ordering Whoosh's matches: BM25F with the plain-query bonuses, and the word order fused with meaning.

`word_order` collects every visible match and the best `depth` of them in one pass; for a
query in plain words it re-orders those by `ranking.with_bonuses`, reading which words each
has (and has in its title) from the words' document sets, read afresh for each search
(`docsets.query_docs`: a reader's words are not cached). `meaning_docnums` maps the meaning
layer's entry ids to documents inside the allowed set, so an id outside it never counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from whoosh import collectors

from kb.search.docsets import query_docs
from kb.search.query import ParsedQuery, in_title
from kb.search.ranking import with_bonuses
from kb.search.storage import SearcherState


class RecordingTopCollector(collectors.TopCollector):
    """The best `limit` documents by score, keeping every match's number on the way.

    One pass gives both the best documents and the full set of matches that totals and facet
    counts need; Whoosh's block skipping is off so no match goes unseen.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit, usequality=False)
        self.matched: list[int] = []

    def _collect(self, global_docnum: int, score: float) -> float:
        self.matched.append(global_docnum)
        return super()._collect(global_docnum, score)


def word_order(
    state: SearcherState, parsed: ParsedQuery, allowed: frozenset[int], depth: int
) -> tuple[frozenset[int], list[int]]:
    """Every match of `parsed.query` in `allowed`, and the best `depth` of them in order.

    Raises nothing of its own; `parsed.query` must not be None.
    """
    if not allowed:  # Whoosh reads an empty filter as no filter at all.
        return frozenset(), []
    collector = RecordingTopCollector(depth)
    state.searcher.search_with_collector(parsed.query, collectors.FilterCollector(collector, allow=set(allowed)))
    scored = [(hit.docnum, hit.score or 0.0) for hit in collector.results()]
    matched = frozenset(collector.matched)
    if len(parsed.units) < 2:
        return matched, [docnum for docnum, _ in scored]
    units = [node for _, node in parsed.units]
    anywhere = [query_docs(state, node) for node in units]
    titles = [query_docs(state, in_title(node)) for node in units]

    def covered(docnum: int) -> int:
        return sum(docnum in docs for docs in anywhere)

    def titled(docnum: int) -> int:
        return sum(docnum in docs for docs in titles)

    return matched, with_bonuses(scored, covered, titled, len(units))


def meaning_docnums(state: SearcherState, entry_ids: Sequence[int], allowed: frozenset[int]) -> list[int]:
    """The documents of `entry_ids` that are in `allowed`, in the same order, each once."""
    found: list[int] = []
    for entry_id in entry_ids:
        docnum = state.searcher.document_number(id=str(entry_id))
        if docnum is not None and docnum in allowed and docnum not in found:
            found.append(docnum)
    return found
