"""Reciprocal rank fusion: one order from the word ranking and the meaning ranking of the same search.

Each list gives an entry weight / (K + rank); the sums order the results. An entry high in
both lists beats one high in only one, and neither list's scores need to be comparable.
`meaning_joins` says when meaning has a say at all: a short query whose words already find
enough entries is taken at its words.
"""

from __future__ import annotations

from collections.abc import Sequence

from kb.search.types import FEW_RESULTS

K = 5
"""Small, so the first places of each list count for much more than the tail (measured in benchmarks/relevance.py)."""
MEANING_WEIGHT = 0.8
"""The meaning list counts a little less than the words, so a close match by words keeps its place."""
SHORT_QUERY_WORDS = 3
"""A query of fewer words than this (question and filler words aside) is a keyword search."""


def meaning_joins(words_in_query: int, with_every_word: int) -> bool:
    """Whether entries close in meaning join a search of `words_in_query` words, `with_every_word` of them matching all.

    Keyword searches that find at least `FEW_RESULTS` entries with every word are left to the
    words: there the meaning list mostly adds near misses above exact ones.
    """
    return words_in_query >= SHORT_QUERY_WORDS or with_every_word < FEW_RESULTS


def fuse(
    by_words: Sequence[int], by_meaning: Sequence[int], *, k: int = K, meaning_weight: float = MEANING_WEIGHT
) -> list[int]:
    """Every id of both lists once, best first; ties keep the word ranking's order, then the meaning ranking's."""
    scores: dict[int, float] = {}
    for rank, entry_id in enumerate(by_words):
        scores[entry_id] = scores.get(entry_id, 0.0) + 1.0 / (k + rank + 1)
    for rank, entry_id in enumerate(by_meaning):
        scores[entry_id] = scores.get(entry_id, 0.0) + meaning_weight / (k + rank + 1)
    first_place: dict[int, int] = {}
    for place, entry_id in enumerate([*by_words, *by_meaning]):
        first_place.setdefault(entry_id, place)
    return sorted(scores, key=lambda entry_id: (-scores[entry_id], first_place[entry_id]))
