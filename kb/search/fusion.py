"""Reciprocal rank fusion: one order from the word ranking and the meaning ranking of the same search.

Each list gives an entry weight / (K + rank); the sums order the results. An entry high in
both lists beats one high in only one, and neither list's scores need to be comparable.
`joining` says how meaning has its say: fused for questions and longer queries, after the
word matches for a short query that has a few, not at all for one that finds enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from kb.search.types import FEW_RESULTS

K = 5
"""Small, so the first places of each list count for much more than the tail (measured in benchmarks/relevance.py)."""
MEANING_WEIGHT = 0.8
"""The meaning list counts a little less than the words, so a close match by words keeps its place."""
SHORT_QUERY_WORDS = 3
"""A query of fewer words than this (question and filler words aside) is a keyword search."""


class Joining(Enum):
    """How the entries close in meaning join a search's word ranking."""

    FUSED = "fused"
    """The two orders fused (`fuse`)."""
    AFTER = "after"
    """After every entry the words found."""
    NOT = "not"
    """Left out: the words found enough."""


def joining(words_in_query: int, with_every_word: int) -> Joining:
    """How meaning joins a search of `words_in_query` words (fillers aside), `with_every_word` entries having all.

    A keyword search (fewer than `SHORT_QUERY_WORDS` words) that finds entries with every word
    is taken at its words: with at least `FEW_RESULTS` of them meaning is left out, with fewer
    its entries follow them. There the meaning list mostly adds near misses above exact ones.
    """
    if words_in_query >= SHORT_QUERY_WORDS or with_every_word == 0:
        return Joining.FUSED
    return Joining.AFTER if with_every_word < FEW_RESULTS else Joining.NOT


def ordered(by_words: Sequence[int], by_meaning: Sequence[int], how: Joining) -> list[int]:
    """The relevance order of a search: the word order with the meaning order joined `how`."""
    if not by_meaning or how is Joining.NOT:
        return list(by_words)
    if how is Joining.AFTER:
        seen = set(by_words)
        return [*by_words, *(entry_id for entry_id in by_meaning if entry_id not in seen)]
    return fuse(by_words, by_meaning)


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
