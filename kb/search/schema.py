"""The index's fields: one weighted catch-all text field, the fields users may name, and facets.

Searching one field is faster than searching several (see docs/search.md), so every text
of an entry goes into `text`, each part weighted by where it came from: a word in the
title counts three times, in the summary or the lesson twice, in the body once. Parts are
kept apart by a gap in positions, so a phrase never runs from the title into the body.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from whoosh import analysis, fields
from whoosh.util.text import utf8encode

PART_GAP = 100
"""Positions left between two parts of the catch-all field, more than any phrase's slop."""

WeightedParts = Sequence[tuple[str, float]]


def text_analyzer() -> analysis.Analyzer:
    """English words, lower-cased, stop words dropped, Porter-stemmed."""
    return analysis.StemmingAnalyzer(minsize=2, cachesize=50000)


class WeightedText(fields.TEXT):
    """A text field whose value is a list of (text, weight) parts, or one plain string."""

    def index(self, value: str | WeightedParts, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        """Yield (term, frequency, weight, encoded positions) for each distinct term.

        A term's weight is the sum of its parts' weights over its occurrences; its
        frequency, which the field length is made of, counts each occurrence once.
        """
        parts: WeightedParts = [(value, 1.0)] if isinstance(value, str) else value
        positions: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, float] = defaultdict(float)
        start = 0
        for part, weight in parts:
            last = start
            for token in self.analyzer(part, positions=True, start_pos=start, mode="index"):
                positions[token.text].append(token.pos)
                weights[token.text] += weight
                last = token.pos
            start = last + PART_GAP
        for term, places in positions.items():
            yield utf8encode(term)[0], len(places), weights[term], self.format.encode(places)

    def spellable_words(self, value: str | WeightedParts) -> list[str]:
        """The unstemmed words of every part, sorted, for "did you mean" suggestions."""
        parts: WeightedParts = [(value, 1.0)] if isinstance(value, str) else value
        words = {token.text for part, _ in parts for token in self.analyzer(part, no_morph=True, mode="index")}
        return sorted(words)


USER_FIELDS: dict[str, str] = {"title": "title", "tag": "tag", "region": "region", "kind": "kind"}
"""The field names a query may use, and the index field each one searches."""

FACET_FIELDS: tuple[str, ...] = ("kind", "theme", "tag", "region", "year", "status")
"""The fields whose values are counted and offered as filters on the search page."""


def build_schema() -> fields.Schema:
    """The schema of kb's index."""
    analyzer = text_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        text=WeightedText(analyzer=analyzer, phrase=True, spelling=True),
        title=fields.TEXT(analyzer=analyzer, phrase=True, field_boost=3.0),
        kind=fields.ID(sortable=True),
        tag=fields.KEYWORD(lowercase=True),
        theme=fields.KEYWORD(lowercase=True),
        region=fields.ID(sortable=True),
        organisation=fields.ID(sortable=True),
        year=fields.ID(sortable=True),
        date=fields.DATETIME(sortable=True),
        updated=fields.DATETIME(sortable=True),
        status=fields.ID(sortable=True),
        visibility=fields.ID(),
        author=fields.ID(),
        panel=fields.ID(),
        fingerprint=fields.STORED(),
    )


def user_schema() -> fields.Schema:
    """The fields a typed query may reach: the catch-all text and `USER_FIELDS`, nothing hidden."""
    full = build_schema()
    return fields.Schema(text=full["text"], **{name: full[target] for name, target in USER_FIELDS.items()})
