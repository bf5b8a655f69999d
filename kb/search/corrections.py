"""Corrections of what was typed: near spellings for `word~`, and "did you mean" words.

Both look words up among the unstemmed words the index keeps for spelling, then search
for their stems like any other query word.
"""

from __future__ import annotations

from dataclasses import replace

from whoosh import query as q
from whoosh.searching import Searcher

from kb.search.query import ParsedQuery
from kb.search.schema import text_analyzer
from kb.search.spelling import correct, split_compound
from kb.search.storage import SearcherState

_ANALYZER = text_analyzer()


def corrected_text(state: SearcherState, typed: str, allowed: frozenset[int]) -> str | None:
    """`typed` with its unknown words spelled as words of entries the viewer may see; None if none changed.

    A word the index does not have but that is two words it has written together is left alone.
    """
    reader = state.searcher.reader()

    def stems(word: str) -> list[str]:
        return [token.text for token in _ANALYZER(word)]

    def is_known(word: str) -> bool:
        if all(reader.doc_frequency("text", stem) for stem in stems(word)):
            return True
        return split_compound(word, lambda part: ("spell", part) in reader) is not None

    def near_words(word: str, distance: int) -> list[str]:
        return list(reader.terms_within("spell", word, distance, prefix=1))

    def visible_frequency(word: str) -> int:
        terms = [q.Term("text", stem) for stem in stems(word)]
        return len(frozenset(state.searcher.docs_for_query(q.And(terms))) & allowed) if terms else 0

    return correct(typed, is_known, near_words, visible_frequency)


def with_fuzzy_words(parsed: ParsedQuery, searcher: Searcher) -> ParsedQuery:
    """Replace each `word~` on the text field by the indexed words within its distance.

    The text field keeps its unstemmed words apart for spelling, so near spellings are
    found there and then stemmed like every other query word.
    """
    if parsed.query is None:
        return parsed
    reader = searcher.reader()

    def expand(node: q.Query) -> q.Query:
        if not isinstance(node, q.FuzzyTerm) or node.fieldname != "text":
            return node
        typed = parsed.typed[node.startchar : node.endchar] if getattr(node, "startchar", None) is not None else ""
        word = typed.lower().rstrip("~0123456789") or node.text
        words = set(reader.terms_within("spell", word, node.maxdist, prefix=node.prefixlength))
        stems = sorted({stem for word in words for stem in (token.text for token in _ANALYZER(word))})
        return q.Or([q.Term("text", stem) for stem in stems], boost=node.boost) if stems else q.NullQuery

    return replace(parsed, query=parsed.query.accept(expand).normalize())
