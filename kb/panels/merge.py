"""A three-way merge of texts, line by line, for two people who edited the same finding.

Pure: takes the text both started from (`base`), the version saved first (`theirs`) and
the one being saved (`yours`), and splits the merge into pieces: stretches neither side
changed, changes made by one side only (applied without asking), and clashes where both
changed the same lines differently. A person settles each clash with a `Choice` (keep
mine, keep theirs, keep both, or an edited text) and `resolve` puts the text together.
Nothing here writes conflict markers; `conflict_marker_line` finds any typed by hand, so
that a save can refuse them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum

# Marker lines of other merge tools, refused in a saved finding.
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


class Choice(StrEnum):
    """What a person chose for one clash; the values are those of the merge form's radio buttons."""

    MINE = "mine"
    THEIRS = "theirs"
    BOTH = "both"
    EDIT = "edit"


class PieceKind(StrEnum):
    """Where a stretch of the merged text comes from."""

    SAME = "same"
    THEIRS = "theirs"
    YOURS = "yours"
    ALIKE = "alike"
    CLASH = "clash"


@dataclass(frozen=True)
class Piece:
    """A stretch of a text in a merge: the base lines and what each side made of them.

    `kind` says whether neither side changed it (SAME), one side did (THEIRS, YOURS: applied
    without asking), both made the same change (ALIKE), or both changed it differently (CLASH).
    """

    kind: PieceKind
    base: tuple[str, ...]
    theirs: tuple[str, ...]
    yours: tuple[str, ...]

    @property
    def automatic(self) -> tuple[str, ...]:
        """The lines a piece that is not a clash contributes."""
        return self.yours if self.kind == PieceKind.YOURS else self.theirs

    @property
    def theirs_text(self) -> str:
        """Their lines as one text."""
        return "\n".join(self.theirs)

    @property
    def yours_text(self) -> str:
        """Your lines as one text."""
        return "\n".join(self.yours)

    @property
    def base_text(self) -> str:
        """The lines both started from, as one text."""
        return "\n".join(self.base)


@dataclass(frozen=True)
class Resolution:
    """A person's answer to one clash: a choice, and the text typed when the choice is EDIT."""

    choice: Choice
    text: str = ""


# Written here rather than taken from `merge3`: that library (bzr's merge) treats edits to
# adjacent lines, and an edit beside a deletion, as clashes, which this merge combines.
def plan_lines(base: list[str], theirs: list[str], yours: list[str]) -> list[Piece]:
    """Split a three-way merge of line lists into pieces, in order; joined they cover every line."""
    pieces: list[Piece] = []
    position = 0
    for their_group, your_group in _groups(changes(base, theirs), changes(base, yours)):
        every = their_group + your_group
        start, end = min(c.start for c in every), max(c.end for c in every)
        if position < start:
            same = tuple(base[position:start])
            pieces.append(Piece(PieceKind.SAME, same, same, same))
        position = end
        their_lines = tuple(_apply(base, start, end, their_group))
        your_lines = tuple(_apply(base, start, end, your_group))
        if not your_group:
            kind = PieceKind.THEIRS
        elif not their_group:
            kind = PieceKind.YOURS
        elif their_lines == your_lines:
            kind = PieceKind.ALIKE
        else:
            kind = PieceKind.CLASH
        pieces.append(Piece(kind, tuple(base[start:end]), their_lines, your_lines))
    if position < len(base):
        same = tuple(base[position:])
        pieces.append(Piece(PieceKind.SAME, same, same, same))
    return pieces


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def plan_text(base: str, theirs: str, yours: str) -> list[Piece]:
    """The pieces of a three-way merge of two whole texts from the text both started from."""
    return plan_lines(_lines(base), _lines(theirs), _lines(yours))


def plan_line(base: str, theirs: str, yours: str) -> list[Piece]:
    """The merge of a one-line value (a title) as a single piece."""
    if yours in (base, theirs):
        kind = PieceKind.SAME if theirs == base else (PieceKind.ALIKE if yours == theirs else PieceKind.THEIRS)
    elif theirs == base:
        kind = PieceKind.YOURS
    else:
        kind = PieceKind.CLASH
    return [Piece(kind, (base,), (theirs,), (yours,))]


def clashes(pieces: list[Piece]) -> list[Piece]:
    """The pieces a person must choose for, in order."""
    return [piece for piece in pieces if piece.kind == PieceKind.CLASH]


def automatic(pieces: list[Piece]) -> list[Piece]:
    """The changes applied without asking: one side's, or the same change made by both."""
    return [piece for piece in pieces if piece.kind in (PieceKind.THEIRS, PieceKind.YOURS, PieceKind.ALIKE)]


def both(piece: Piece, *, one_line: bool = False) -> str:
    """A clash's two versions kept together: theirs (saved first), then yours.

    Lines of text are kept as separate paragraphs; a one-line value joins them with " / ".
    """
    if one_line:
        return " / ".join(part for part in (piece.theirs_text, piece.yours_text) if part.strip())
    parts = [part for part in (piece.theirs_text.strip("\n"), piece.yours_text.strip("\n")) if part.strip()]
    return "\n\n".join(parts)


def _chosen(piece: Piece, resolution: Resolution, *, one_line: bool) -> list[str]:
    if resolution.choice == Choice.MINE:
        return list(piece.yours)
    if resolution.choice == Choice.THEIRS:
        return list(piece.theirs)
    text = both(piece, one_line=one_line) if resolution.choice == Choice.BOTH else resolution.text
    return _lines(text) if text else []


def resolve(pieces: list[Piece], resolutions: list[Resolution], *, one_line: bool = False) -> str:
    """The merged text: automatic changes applied and each clash settled by its resolution, in order.

    Raises ValueError when the number of resolutions is not the number of clashes.
    """
    if len(resolutions) != len(clashes(pieces)):
        raise ValueError(f"{len(clashes(pieces))} clashes, {len(resolutions)} resolutions")
    answers = iter(resolutions)
    lines: list[str] = []
    for piece in pieces:
        if piece.kind == PieceKind.CLASH:
            lines.extend(_chosen(piece, next(answers), one_line=one_line))
        else:
            lines.extend(piece.automatic)
    return " ".join(lines) if one_line else "\n".join(lines)


def conflict_marker_line(text: str) -> int | None:
    """The number (from 1) of the first line that is a conflict marker, or None when there is none."""
    for number, line in enumerate(_lines(text), start=1):
        stripped = line.rstrip()
        if stripped in (THEIRS_MARKER, MIDDLE_MARKER, YOURS_MARKER):
            return number
        if stripped.startswith((f"{THEIRS_MARKER} ", f"{YOURS_MARKER} ")):
            return number
    return None
