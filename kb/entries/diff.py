"""A readable line diff between two revisions' documents, with changed words marked.

Pure: takes two texts, returns rows for a template. Unchanged stretches longer than the
context are folded into a "gap" row saying how many lines were skipped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_WORDS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass
class Segment:
    """A piece of a line; `changed` pieces are highlighted."""

    text: str
    changed: bool = False


@dataclass
class DiffRow:
    """One row: `same`, `removed`, `added`, or `gap` (skipped unchanged lines)."""

    kind: str
    old_number: int | None = None
    new_number: int | None = None
    segments: list[Segment] = field(default_factory=list)
    skipped: int = 0


@dataclass
class Diff:
    """The rows of a diff and how many lines each side changed."""

    rows: list[DiffRow]
    added: int
    removed: int

    @property
    def identical(self) -> bool:
        """True when the two texts are the same."""
        return self.added == 0 and self.removed == 0


def _word_segments(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    old_words, new_words = _WORDS.findall(old), _WORDS.findall(new)
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    old_segments: list[Segment] = []
    new_segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        changed = tag != "equal"
        if i2 > i1:
            old_segments.append(Segment("".join(old_words[i1:i2]), changed))
        if j2 > j1:
            new_segments.append(Segment("".join(new_words[j1:j2]), changed))
    return old_segments, new_segments


def _changed_block(old: list[str], new: list[str], i1: int, j1: int) -> list[DiffRow]:
    removed, added = [], []
    for offset in range(max(len(old), len(new))):
        if offset < len(old) and offset < len(new):
            old_segments, new_segments = _word_segments(old[offset], new[offset])
        else:
            old_segments = [Segment(old[offset], True)] if offset < len(old) else []
            new_segments = [Segment(new[offset], True)] if offset < len(new) else []
        if offset < len(old):
            removed.append(DiffRow("removed", old_number=i1 + offset + 1, segments=old_segments))
        if offset < len(new):
            added.append(DiffRow("added", new_number=j1 + offset + 1, segments=new_segments))
    return removed + added


def diff_texts(old_text: str, new_text: str, context: int = 3) -> Diff:
    """Compare two documents line by line; unchanged runs beyond `context` lines fold."""
    old, new = old_text.splitlines(), new_text.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    rows: list[DiffRow] = []
    added = removed = 0
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag != "equal":
            rows.extend(_changed_block(old[i1:i2], new[j1:j2], i1, j1))
            removed += i2 - i1
            added += j2 - j1
            continue
        keep_head = context if index > 0 else 0
        keep_tail = context if index < len(opcodes) - 1 else 0
        length = i2 - i1
        if length <= keep_head + keep_tail + 1:
            keep_head, keep_tail = length, 0
        for offset in range(keep_head):
            rows.append(DiffRow("same", i1 + offset + 1, j1 + offset + 1, [Segment(old[i1 + offset])]))
        skipped = length - keep_head - keep_tail
        if skipped > 0:
            rows.append(DiffRow("gap", skipped=skipped))
        for offset in range(length - keep_tail, length):
            rows.append(DiffRow("same", i1 + offset + 1, j1 + offset + 1, [Segment(old[i1 + offset])]))
    return Diff(rows, added, removed)
