"""The index's fields: one weighted catch-all text field, the fields users may name, and facets.

Searching one field is faster than searching several (see docs/search.md), so every text
of an entry goes into `text`, each part weighted by where it came from: a word in the
title counts three times, in the summary or the lesson twice, in the body once. Parts are
kept apart by a gap in positions, so a phrase never runs from the title into the body.
`spell` holds each entry's distinct words unstemmed, for spelling corrections.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from whoosh import analysis, fields
from whoosh.lang import porter
from whoosh.util.text import utf8encode

PART_GAP = 100
"""Positions left between two parts of the catch-all field, more than any phrase's slop."""

Words = Sequence[str]
WeightedParts = Sequence[tuple[str | Words, float]]
"""The catch-all field's value: (text, or its words from `words_of`, weight) for each part."""

_WORDS = analysis.RegexTokenizer() | analysis.LowercaseFilter() | analysis.StopFilter(minsize=2)
_stem = lru_cache(maxsize=100_000)(porter.stem)


def text_analyzer() -> analysis.Analyzer:
    """English words, lower-cased, stop words dropped, Porter-stemmed: queries are read with this."""
    return analysis.StemmingAnalyzer(minsize=2, cachesize=50000)


def words_of(text: str) -> list[str]:
    """The words `text_analyzer` would stem, in order: lower-cased, stop words dropped."""
    return [token.text for token in _WORDS(text)]


def stem(word: str) -> str:
    """A word's stem, as `text_analyzer` makes it."""
    return _stem(word)


class WeightedText(fields.TEXT):
    """A text field whose value is a list of weighted parts, or one plain string.

    Entries are indexed from words split once (`words_of`), so the same words also feed
    the spelling field without being read twice.
    """

    def index(self, value: str | WeightedParts, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        """Yield (term, frequency, weight, encoded positions) for each distinct stem.

        A term's weight is the sum of its parts' weights over its occurrences; its
        frequency, which the field length is made of, counts each occurrence once.
        """
        parts: WeightedParts = [(value, 1.0)] if isinstance(value, str) else value
        positions: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, float] = defaultdict(float)
        start = 0
        for part, weight in parts:
            words = words_of(part) if isinstance(part, str) else part
            for offset, word in enumerate(words):
                term = _stem(word)
                positions[term].append(start + offset)
                weights[term] += weight
            start += len(words) + PART_GAP
        for term, places in positions.items():
            yield utf8encode(term)[0], len(places), weights[term], self.format.encode(places)


USER_FIELDS: dict[str, str] = {"title": "title", "tag": "tag", "region": "region", "kind": "kind"}
"""The field names a query may use, and the index field each one searches."""

FACET_FIELDS: tuple[str, ...] = ("kind", "theme", "tag", "region", "year", "status")
"""The fields whose values are counted and offered as filters on the search page."""


def build_schema() -> fields.Schema:
    """The schema of kb's index."""
    analyzer = text_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        text=WeightedText(analyzer=analyzer, phrase=True),
        spell=fields.TEXT(analyzer=analysis.RegexTokenizer() | analysis.LowercaseFilter(), phrase=False),
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
        pages=fields.STORED(),
    )


def user_schema() -> fields.Schema:
    """The fields a typed query may reach: the catch-all text and `USER_FIELDS`, nothing hidden."""
    full = build_schema()
    return fields.Schema(text=full["text"], **{name: full[target] for name, target in USER_FIELDS.items()})
