"""Ranking a query in plain words: relevance, with a bonus for covering more of its words and for title matches.

Both backends score matches their own way (BM25F, `ts_rank_cd`); for a plain query each
score is divided by the best one and two bonuses are added: the share of the query's words
the entry has, and the share it has in its title. An entry with every word usually comes
first, yet one with most of them in its title can pass one that mentions all of them once.
`WORD_DEPTH` is how many of the word ranking's best are re-ranked and fused with meaning.
`broader_query` is what both backends search instead when too little has every word.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import TypeVar

from whoosh import query as q

from kb.search.query import ParsedQuery
from kb.search.types import FEW_RESULTS

COVERAGE_WEIGHT = 1.0
"""Added for an entry with every word of the query; a share of it for some of them."""
TITLE_WEIGHT = 0.5
"""Added for an entry whose title has every word of the query; a share of it for some of them."""
WORD_DEPTH = 100
"""How many of the best word matches are ordered with the bonuses (and fused with meaning); the rest follow."""

K = TypeVar("K", bound=Hashable)


def with_bonuses(
    scored: Sequence[tuple[K, float]], covered: Callable[[K], int], in_title: Callable[[K], int], words: int
) -> list[K]:
    """The keys of `scored` (best score first) ordered by normalised score plus the coverage and title bonuses.

    `covered(key)` and `in_title(key)` count the query's `words` the entry has anywhere and in its title.
    """
    if not scored or words < 1:
        return [key for key, _ in scored]
    best = max(score for _, score in scored) or 1.0

    def value(key: K, score: float) -> float:
        return score / best + COVERAGE_WEIGHT * covered(key) / words + TITLE_WEIGHT * in_title(key) / words

    order = {key: place for place, (key, _) in enumerate(scored)}
    return sorted(order, key=lambda key: (-value(key, scored[order[key]][1]), order[key]))


def broader_query(parsed: ParsedQuery, found: int, read: Callable[[str], ParsedQuery]) -> ParsedQuery | None:
    """What to search when too little has every word of `parsed` (`found` entries have them all), or None.

    Any of a plain query's words (ranked with the bonuses) when fewer than `FEW_RESULTS` have
    them all; any of the words of another query that found nothing, `read` parsing its text
    with its words joined by OR.
    """
    if len(parsed.units) > 1 and found < FEW_RESULTS and parsed.query is not None:
        return replace(parsed, query=q.Or([node for _, node in parsed.units]))
    if not found and not parsed.units:
        wider = read(parsed.text)
        return wider if wider.query is not None else None
    return None
