"""What the merge page shows and what its form says: two saves of a finding, their clashes, and the choices made.

A save based on an old revision is answered with this page: for each of the title, the
finding and the recommendations, the changes only one side made (applied without asking,
and listed) and the clashes, each shown as their version beside yours with a choice of
keep mine, keep theirs, keep both or edit. The page's form carries your typed text and the
two revision numbers, so posting it rebuilds the same clashes and settles them with the
choices; nothing here reads the request's user or writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from kb.panels.forms import TEXT_MAX, TITLE_MAX
from kb.panels.merge import Choice, Piece, Resolution, automatic, both, clashes, plan_line, plan_text, resolve
from kb.panels.models import FindingRevision
from kb.panels.service import FindingText

FIELDS: tuple[tuple[str, str], ...] = (("title", "Title"), ("body", "Finding"), ("recommendations", "Recommendations"))
"""The merged parts of a finding: the name of each (as in `FindingText`) and its label."""

CHOICE_LABELS: dict[str, str] = {
    Choice.MINE: "Keep mine",
    Choice.THEIRS: "Keep theirs",
    Choice.BOTH: "Keep both",
    Choice.EDIT: "Edit",
}


@dataclass(frozen=True)
class Clash:
    """One clash on the page: where it is, the two versions, and what the form says about it so far."""

    field: str
    label: str
    number: int
    piece: Piece
    one_line: bool
    choice: str = ""
    edited: str | None = None

    @property
    def key(self) -> str:
        """The clash's part of its form fields' names and ids: `<field>-<number>`."""
        return f"{self.field}-{self.number}"

    @property
    def both_text(self) -> str:
        """Both versions together, as "keep both" saves them and the edit box starts."""
        return both(self.piece, one_line=self.one_line)

    @property
    def edit_text(self) -> str:
        """What the edit box holds: what was typed into it, else both versions."""
        return self.both_text if self.edited is None else self.edited


@dataclass(frozen=True)
class FieldMerge:
    """The merge of one part of a finding: its pieces, its clashes and its automatic changes."""

    name: str
    label: str
    pieces: list[Piece]
    clashes: list[Clash]

    @property
    def automatic(self) -> list[Piece]:
        """The changes made by one side only (or alike by both), applied without asking."""
        return automatic(self.pieces)


@dataclass
class MergeView:
    """The merge page: their saved revision, what you typed, the merged parts, and any errors.

    `base_number` is the revision the editor started from (None when unknown: then every
    difference is a clash); `errors` pairs the id of a field with what is wrong there.
    """

    theirs: FindingRevision
    base_number: int | None
    yours: FindingText
    message: str
    fields: list[FieldMerge]
    errors: list[tuple[str, str]] = field(default_factory=list)
    notice: str = ""

    @property
    def clash_count(self) -> int:
        """How many clashes need a choice."""
        return sum(len(part.clashes) for part in self.fields)

    @property
    def automatic_count(self) -> int:
        """How many changes were applied without asking."""
        return sum(len(part.automatic) for part in self.fields)


def build(
    theirs: FindingRevision,
    base: FindingRevision | None,
    yours: FindingText,
    *,
    message: str = "",
    form: MultiDict[str, str] | None = None,
) -> MergeView:
    """The merge of `yours` with `theirs`, both from `base`; choices and edits already posted (`form`) are kept."""
    start = FindingText.of(base) if base is not None else FindingText("", "", "")
    saved = FindingText.of(theirs)
    parts: list[FieldMerge] = []
    for name, label in FIELDS:
        one_line = name == "title"
        old, their_text, your_text = getattr(start, name), getattr(saved, name), getattr(yours, name)
        pieces = plan_line(old, their_text, your_text) if one_line else plan_text(old, their_text, your_text)
        found = []
        for number, piece in enumerate(clashes(pieces), start=1):
            key = f"{name}-{number}"
            choice = form.get(f"choice-{key}", "") if form is not None else ""
            edited = form.get(f"edited-{key}") if form is not None else None
            found.append(Clash(name, label, number, piece, one_line, choice, edited))
        parts.append(FieldMerge(name, label, pieces, found))
    return MergeView(theirs, base.number if base else None, yours, message, parts)


def resolved(view: MergeView) -> FindingText | None:
    """The finding as the choices on the form settle it, or None with `view.errors` filled when they cannot.

    Each clash needs one of the four choices; an edited text and the merged texts must keep
    within the form's limits.
    """
    texts: dict[str, str] = {}
    for part in view.fields:
        answers: list[Resolution] = []
        for clash in part.clashes:
            place = f"{part.label.lower()}, clash {clash.number}"
            if clash.choice not in CHOICE_LABELS:
                view.errors.append((f"choice-{clash.key}-1", f"Choose which version to keep for the {place}."))
                continue
            edited = clash.edited or ""
            if clash.choice == Choice.EDIT and len(edited) > TEXT_MAX:
                view.errors.append((f"edited-{clash.key}", f"The edited text for the {place} is too long."))
                continue
            answers.append(Resolution(Choice(clash.choice), edited))
        if len(answers) == len(part.clashes):
            texts[part.name] = resolve(part.pieces, answers, one_line=part.name == "title")
    if view.errors:
        return None
    limits = {"title": TITLE_MAX, "body": TEXT_MAX, "recommendations": TEXT_MAX}
    for name, label in FIELDS:
        if len(texts[name]) > limits[name]:
            view.errors.append(
                (f"field-{name}", f"The merged {label.lower()} is longer than {limits[name]:,} characters; shorten it.")
            )
    if view.errors:
        return None
    return FindingText(texts["title"], texts["body"], texts["recommendations"])
