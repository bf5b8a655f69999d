"""A three-way merge of texts, line by line, for two people who edited the same finding.

Pure: takes the text both started from (`base`), the version saved first (`theirs`) and
the one being saved (`yours`). Changes to different lines combine cleanly; where both
changed the same lines differently, both versions are kept between marker lines for a
person to resolve, and the saving form refuses text that still holds markers.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

THEIRS_MARKER = "<<<<<<<"
MIDDLE_MARKER = "======="
YOURS_MARKER = ">>>>>>>"


@dataclass(frozen=True)
class Change:
    """One side's change: base lines `start` to `end` (exclusive) became `lines`."""

    start: int
    end: int
    lines: tuple[str, ...]

    def touches(self, other: Change) -> bool:
        """Whether the two changes cannot both be applied as they are.

        They clash when their base ranges overlap, or when both insert at the same place
        (the order of the two insertions would be a guess).
        """
        mine_empty, other_empty = self.start == self.end, other.start == other.end
        if mine_empty and other_empty:
            return self.start == other.start
        if mine_empty:
            return other.start < self.start < other.end
        if other_empty:
            return self.start < other.start < self.end
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class MergeResult:
    """The merged text and how many places need a person to choose."""

    text: str
    conflicts: int

    @property
    def clean(self) -> bool:
        """True when every change combined without a conflict."""
        return self.conflicts == 0


def changes(base: list[str], side: list[str]) -> list[Change]:
    """The changes that turn `base` into `side`, in base order."""
    matcher = difflib.SequenceMatcher(a=base, b=side, autojunk=False)
    return [Change(i1, i2, tuple(side[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _groups(theirs: list[Change], yours: list[Change]) -> list[tuple[list[Change], list[Change]]]:
    """Changes of both sides grouped so that no change in one group clashes with one in another."""
    tagged = sorted([(c, 0) for c in theirs] + [(c, 1) for c in yours], key=lambda item: (item[0].start, item[0].end))
    groups: list[tuple[list[Change], list[Change]]] = []
    for change, side in tagged:
        if groups and any(change.touches(other) for other in groups[-1][0] + groups[-1][1]):
            groups[-1][side].append(change)
        else:
            groups.append(([], []))
            groups[-1][side].append(change)
    return groups


def _apply(base: list[str], start: int, end: int, side_changes: list[Change]) -> list[str]:
    """Base lines `start` to `end` with one side's changes (all within that range) applied."""
    out: list[str] = []
    position = start
    for change in side_changes:
        out.extend(base[position : change.start])
        out.extend(change.lines)
        position = change.end
    out.extend(base[position:end])
    return out


# Written here rather than taken from `merge3`: that library (bzr's merge) marks edits to
# adjacent lines, and an edit beside a deletion, as conflicts, which this merge combines.
def merge_lines(
    base: list[str], theirs: list[str], yours: list[str], *, their_label: str, your_label: str
) -> tuple[list[str], int]:
    """Merge line lists; returns the merged lines and the number of conflicts marked in them."""
    merged: list[str] = []
    conflicts = 0
    position = 0
    for their_group, your_group in _groups(changes(base, theirs), changes(base, yours)):
        every = their_group + your_group
        start, end = min(c.start for c in every), max(c.end for c in every)
        merged.extend(base[position:start])
        position = end
        their_text = _apply(base, start, end, their_group)
        your_text = _apply(base, start, end, your_group)
        if not your_group or their_text == your_text:
            merged.extend(their_text)
        elif not their_group:
            merged.extend(your_text)
        else:
            conflicts += 1
            merged.extend(
                [
                    f"{THEIRS_MARKER} {their_label}",
                    *their_text,
                    MIDDLE_MARKER,
                    *your_text,
                    f"{YOURS_MARKER} {your_label}",
                ]
            )
    merged.extend(base[position:])
    return merged, conflicts


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def merge_texts(base: str, theirs: str, yours: str, *, their_label: str, your_label: str) -> MergeResult:
    """Three-way merge of whole texts; lines in the result end with a plain newline."""
    lines, conflicts = merge_lines(
        _lines(base), _lines(theirs), _lines(yours), their_label=their_label, your_label=your_label
    )
    return MergeResult("\n".join(lines), conflicts)


def merge_line(base: str, theirs: str, yours: str) -> tuple[str, bool]:
    """Merge a one-line value (a title): returns the value to offer and whether both changed it differently.

    A conflict offers `yours`, since the person saving is the one who will choose.
    """
    if yours in (base, theirs):
        return theirs, False
    if theirs == base:
        return yours, False
    return yours, True


def conflict_marker_line(text: str) -> int | None:
    """The number (from 1) of the first line that is a conflict marker, or None when there is none."""
    for number, line in enumerate(_lines(text), start=1):
        stripped = line.rstrip()
        if stripped in (THEIRS_MARKER, MIDDLE_MARKER, YOURS_MARKER):
            return number
        if stripped.startswith((f"{THEIRS_MARKER} ", f"{YOURS_MARKER} ")):
            return number
    return None
