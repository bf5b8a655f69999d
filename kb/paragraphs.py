"""Stable paragraph anchors, and finding a cited paragraph again after its paper changed.

A paragraph's anchor comes from its own words (`p-` and eight hex digits of a hash of its
normalised text), never from its position, so editing, adding or removing other
paragraphs never moves it. Identical paragraphs are told apart in reading order by
`-2`, `-3`. This module has no app and no database.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

ANCHOR = re.compile(r"^p-[0-9a-f]{8}(?:-[1-9][0-9]*)?$")
"""What a paragraph anchor looks like; anything else is not one."""

SIMILAR_ENOUGH = 0.6
"""How alike (difflib's ratio, 0 to 1) a current paragraph must be to stand for a cited one that changed."""

EXACT, CHANGED, GONE = "exact", "changed", "gone"


@dataclass(frozen=True)
class Paragraph:
    """One paragraph or list item of a paper: its anchor and its plain text."""

    anchor: str
    text: str


@dataclass(frozen=True)
class Resolution:
    """Where a cited paragraph is now.

    `state` is `exact` (the same words are still there), `changed` (the most similar
    paragraph now, `current`, differs from what was cited) or `gone` (nothing similar).
    """

    state: str
    quote: str
    current: Paragraph | None = None


def normalise(text: str) -> str:
    """A paragraph's words as its anchor sees them: Unicode-normalised, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def base_anchor(text: str) -> str:
    """The anchor of a paragraph with these words, before telling repeats apart."""
    digest = hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()
    return f"p-{digest[:8]}"


def assign_anchors(texts: Iterable[str]) -> list[str]:
    """Anchors for paragraphs in reading order: the second and later copies of the same words get `-2`, `-3`."""
    seen: dict[str, int] = {}
    anchors: list[str] = []
    for text in texts:
        anchor = base_anchor(text)
        seen[anchor] = seen.get(anchor, 0) + 1
        anchors.append(anchor if seen[anchor] == 1 else f"{anchor}-{seen[anchor]}")
    return anchors


def is_anchor(value: str) -> bool:
    """Whether `value` has the shape of a paragraph anchor."""
    return bool(ANCHOR.match(value))


def similarity(first: str, second: str) -> float:
    """How alike two paragraphs' words are, from 0 (nothing shared) to 1 (the same)."""
    return SequenceMatcher(None, normalise(first), normalise(second), autojunk=False).ratio()


def resolve(anchor: str, quote: str, paragraphs: Sequence[Paragraph]) -> Resolution:
    """Find a cited paragraph (its anchor and the words cited) among a paper's current paragraphs.

    The same anchor, or the same words under another repeat number, is exact; otherwise
    the most similar paragraph at or above `SIMILAR_ENOUGH` is the one that changed;
    otherwise the paragraph is gone and only the quote is left.
    """
    by_anchor = {paragraph.anchor: paragraph for paragraph in paragraphs}
    if anchor in by_anchor and normalise(by_anchor[anchor].text) == normalise(quote or by_anchor[anchor].text):
        return Resolution(EXACT, quote, by_anchor[anchor])
    same_words = base_anchor(quote) if quote else None
    if same_words is not None and same_words in by_anchor:
        return Resolution(EXACT, quote, by_anchor[same_words])
    best: tuple[float, Paragraph] | None = None
    for paragraph in paragraphs:
        score = similarity(quote, paragraph.text)
        if score >= SIMILAR_ENOUGH and (best is None or score > best[0]):
            best = (score, paragraph)
    if best is not None:
        return Resolution(CHANGED, quote, best[1])
    return Resolution(GONE, quote)


def excerpt(text: str, limit: int = 160) -> str:
    """The first words of a paragraph, cut at a word boundary with an ellipsis when longer than `limit`."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    cut = words[:limit].rsplit(" ", 1)[0]
    return f"{cut}…"
