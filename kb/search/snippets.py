"""Highlighted snippets: the stretch of a text with the most matched words, marked up safely.

Pure functions over text and a set of analysed terms; no app, no index.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from markupsafe import Markup, escape
from whoosh.analysis import Analyzer

SNIPPET_CHARS = 240
LEAD_CHARS = 60
SCAN_CHARS = 1500
"""How much of a text, from just before its first likely match, is read for a snippet."""
CUE_LETTERS = 4
"""Stems keep the start of their words, so a term's first letters show where it may occur."""


@dataclass(frozen=True)
class Match:
    """Where one matched word sits in the text."""

    start: int
    end: int


def _first_cue(lowered: str, terms: Collection[str]) -> int:
    places = [lowered.find(term[:CUE_LETTERS]) for term in terms]
    return min((place for place in places if place >= 0), default=-1)


def may_match(text: str, terms: Collection[str]) -> bool:
    """Whether `text` holds the first letters of some term: a quick test before reading it properly."""
    return bool(terms) and _first_cue(text.lower(), terms) >= 0


def find_matches(text: str, terms: Collection[str], analyzer: Analyzer) -> list[Match]:
    """The words of `text` whose analysed form is one of `terms`, in order.

    Analysing is slow, so only a stretch of `SCAN_CHARS` is read, starting a little
    before the first place where a term's first letters occur; a text without them is
    not read at all.
    """
    if not terms:
        return []
    first = _first_cue(text.lower(), terms)
    if first < 0:
        return []
    start = max(0, first - LEAD_CHARS)
    scanned = text[start : start + SCAN_CHARS]
    return [
        Match(start + token.startchar, start + token.endchar)
        for token in analyzer(scanned, chars=True, mode="index")
        if token.text in terms
    ]


def _best_window(matches: list[Match], width: int) -> tuple[int, int]:
    """The indexes (first, last) of the run of matches that fits in `width` characters with most matches."""
    best = (0, 0)
    first = 0
    for last in range(len(matches)):
        while matches[last].end - matches[first].start > width:
            first += 1
        if last - first > best[1] - best[0]:
            best = (first, last)
    return best


def _word_start(text: str, position: int) -> int:
    if position <= 0:
        return 0
    space = text.rfind(" ", 0, position)
    return 0 if space < 0 else space + 1


def _word_end(text: str, position: int) -> int:
    if position >= len(text):
        return len(text)
    space = text.find(" ", position)
    return len(text) if space < 0 else space


def mark(text: str, matches: list[Match], start: int = 0, end: int | None = None) -> Markup:
    """`text[start:end]` escaped, with each match inside it wrapped in `<mark>`."""
    end = len(text) if end is None else end
    marked = Markup("")
    cursor = start
    for match in matches:
        if match.start < start or match.end > end:
            continue
        marked += escape(text[cursor : match.start])
        marked += Markup("<mark>%s</mark>") % text[match.start : match.end]
        cursor = match.end
    return marked + escape(text[cursor:end])


def snippet(text: str, matches: list[Match], width: int = SNIPPET_CHARS) -> Markup:
    """About `width` characters of `text` around its densest run of matches, cut at word boundaries."""
    if not matches:
        end = _word_end(text, width) if len(text) > width else len(text)
        return mark(text, [], 0, end) + (Markup("…") if end < len(text) else "")
    first, last = _best_window(matches, width)
    slack = max(width - (matches[last].end - matches[first].start), 0)
    start = _word_start(text, matches[first].start - min(LEAD_CHARS, slack))
    end = _word_end(text, min(len(text), start + width))
    end = max(end, matches[last].end)
    body = mark(text, matches, start, end)
    return (Markup("…") if start > 0 else Markup("")) + body + (Markup("…") if end < len(text) else Markup(""))
