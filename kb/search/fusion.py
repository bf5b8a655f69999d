"""Reciprocal rank fusion: one order from the word ranking and the meaning ranking of the same search.

Each list gives an entry weight / (K + rank); the sums order the results. An entry high in
both lists beats one high in only one, and neither list's scores need to be comparable.
`joining` says whether meaning has its say: fused for questions and longer queries, not at all
for a keyword search that finds entries with every word, nor for one none of whose words
any entry the reader may see holds (a word nobody wrote finds nothing, by words or meaning).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from kb.search.types import SearchRequest

K = 5
"""Small, so the first places of each list count for much more than the tail (measured in benchmarks/relevance.py)."""
MEANING_WEIGHT = 0.8
"""The meaning list counts a little less than the words, so a close match by words keeps its place."""
SHORT_QUERY_WORDS = 3
"""A query of fewer words than this (question and filler words aside) is a keyword search."""


class Joining(Enum):
    """Whether the entries close in meaning join a search's word ranking."""

    FUSED = "fused"
    """The two orders fused (`fuse`)."""
    NOT = "not"
    """Left out: the words found enough, or nothing at all."""


def joining(words_in_query: int, with_every_word: int, with_any_word: int) -> Joining:
    """Whether meaning joins a search of `words_in_query` words (fillers aside).

    `with_every_word` and `with_any_word` count the entries the reader may see that hold all
    and at least one of the words. A keyword search (fewer than `SHORT_QUERY_WORDS` words)
    that finds entries with every word is taken at its words: there the meaning list mostly
    adds near misses. A search none of whose words the reader's entries hold finds nothing,
    as it would by words alone: meaning of unknown words is noise.
    """
    if not with_any_word:
        return Joining.NOT
    if words_in_query >= SHORT_QUERY_WORDS or with_every_word == 0:
        return Joining.FUSED
    return Joining.NOT


def meaning_ids(request: SearchRequest) -> list[int]:
    """The ids close in meaning of a search meaning joins: those given, else those the meaning layer finds now."""
    if request.meaning:
        return list(request.meaning)
    return list(request.meaning_of()) if request.meaning_of is not None else []


def ordered(by_words: Sequence[int], by_meaning: Sequence[int], how: Joining) -> list[int]:
    """The relevance order of a search: the word order, fused with the meaning order when it joins."""
    if not by_meaning or how is Joining.NOT:
        return list(by_words)
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
