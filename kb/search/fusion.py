"""Reciprocal rank fusion: one order from the word ranking and the meaning ranking of the same search.

Each list gives an entry 1 / (K + rank); the sums order the results. An entry high in both
lists beats one high in only one, and neither list's scores need to be comparable.
"""

from __future__ import annotations

from collections.abc import Sequence

K = 60
"""The usual constant: it keeps the very first places of one list from outweighing agreement of both."""


def fuse(by_words: Sequence[int], by_meaning: Sequence[int], *, k: int = K, meaning_weight: float = 1.0) -> list[int]:
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
