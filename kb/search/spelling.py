"""Spelling corrections for typed queries: each unknown word replaced by its nearest known word.

Pure functions: what counts as known, which words are near and how often a word occurs
are passed in, so the rules are tested without an index. Words are corrected as typed
(not stemmed), operators, field names and words ending in `*` or `~` are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

MIN_WORD = 3
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


def edit_distance(first: str, second: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours needed to turn one word into the other."""
    previous_row: list[int] | None = None
    row = list(range(len(second) + 1))
    for i, a in enumerate(first, start=1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(second)
        for j, b in enumerate(second, start=1):
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + (a != b))
            if before is not None and i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]


def allowed_distance(word: str) -> int:
    """How far a correction may be from a word: one edit for short words, two for longer ones."""
    return 1 if len(word) <= 5 else 2


MIN_PART = 2
MIN_COMPOUND = 5


def split_compound(word: str, is_word: Callable[[str], bool]) -> tuple[str, str] | None:
    """Two words the vocabulary has that `word` is written as together (`golive`: go, live), or None.

    `word` itself must not be a known word; of several splits, the one with the longer shorter part wins.
    """
    word = word.lower()
    if len(word) < MIN_COMPOUND or not word.isalpha() or is_word(word):
        return None
    splits = [(word[:cut], word[cut:]) for cut in range(MIN_PART, len(word) - MIN_PART + 1)]
    known = [(first, second) for first, second in splits if is_word(first) and is_word(second)]
    return max(known, key=lambda pair: min(len(pair[0]), len(pair[1])), default=None)


def joined_compound(first: str, second: str, is_word: Callable[[str], bool]) -> str | None:
    """The one word the vocabulary has for `first` and `second` written together (go, live: golive), or None."""
    joined = (first + second).replace("-", "").lower()
    if len(joined) < MIN_COMPOUND or not joined.isalpha() or joined in {first.lower(), second.lower()}:
        return None
    return joined if is_word(joined) else None


def _skippable(typed: str, start: int, end: int, word: str) -> bool:
    following = typed[end : end + 1]
    return (
        word in OPERATORS
        or len(word) < MIN_WORD
        or word.isdigit()
        or following in {":", "*", "~"}
        or (start > 0 and typed[start - 1] in {"*", "~"})
    )


def correct(
    typed: str,
    is_known: Callable[[str], bool],
    near_words: Callable[[str, int], Iterable[str]],
    frequency: Callable[[str], int],
) -> str | None:
    """`typed` with each unknown word replaced by the nearest, then most frequent, known word; None if nothing changed.

    `is_known(word)` says whether a word needs no correction (stop words should count as
    known); `near_words(word, distance)` lists candidate words; `frequency(word)` is how
    many entries have it (0 rules a candidate out).
    """
    pieces: list[str] = []
    cursor = 0
    changed = False
    for match in _WORD.finditer(typed):
        word = match.group(0)
        if _skippable(typed, match.start(), match.end(), word) or is_known(word.lower()):
            continue
        replacement = best_candidate(word.lower(), near_words, frequency)
        if replacement is None:
            continue
        pieces.append(typed[cursor : match.start()])
        pieces.append(replacement)
        cursor = match.end()
        changed = True
    pieces.append(typed[cursor:])
    return "".join(pieces) if changed else None


def best_candidate(
    word: str, near_words: Callable[[str, int], Iterable[str]], frequency: Callable[[str], int]
) -> str | None:
    """The known word nearest to `word` within its allowed distance, the most frequent of equals."""
    limit = allowed_distance(word)
    scored = []
    for candidate in set(near_words(word, limit)):
        distance = edit_distance(word, candidate)
        if candidate == word or distance > limit:
            continue
        count = frequency(candidate)
        if count:
            scored.append((distance, -count, candidate))
    return min(scored)[2] if scored else None
