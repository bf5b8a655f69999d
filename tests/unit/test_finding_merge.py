"""The three-way merge of a finding's texts: one side's changes apply by themselves, clashes wait for a choice."""

from __future__ import annotations

import pytest

from kb.panels.merge import (
    MIDDLE_MARKER,
    THEIRS_MARKER,
    YOURS_MARKER,
    Change,
    Choice,
    PieceKind,
    Resolution,
    automatic,
    changes,
    clashes,
    conflict_marker_line,
    plan_line,
    plan_text,
    resolve,
)

BASE = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph."


def merged(base: str, theirs: str, yours: str, *choices: Resolution) -> str:
    return resolve(plan_text(base, theirs, yours), list(choices))


def no_markers(text: str) -> bool:
    return conflict_marker_line(text) is None and MIDDLE_MARKER not in text


def test_changes_to_different_paragraphs_combine_cleanly() -> None:
    theirs = BASE.replace("First paragraph.", "First paragraph, reworded by them.")
    yours = BASE.replace("Third paragraph.", "Third paragraph, reworded by you.")
    pieces = plan_text(BASE, theirs, yours)
    assert clashes(pieces) == []
    assert [piece.kind for piece in automatic(pieces)] == [PieceKind.THEIRS, PieceKind.YOURS]
    assert (
        resolve(pieces, [])
        == "First paragraph, reworded by them.\n\nSecond paragraph.\n\nThird paragraph, reworded by you."
    )


def test_changes_to_adjacent_lines_combine_cleanly() -> None:
    assert merged("one\ntwo\nthree", "one\nTWO\nthree", "one\ntwo\nTHREE") == "one\nTWO\nTHREE"


def test_an_insertion_and_an_edit_elsewhere_combine() -> None:
    theirs = "New opening paragraph.\n\n" + BASE
    yours = BASE.replace("Second paragraph.", "Second paragraph, longer.")
    text = merged(BASE, theirs, yours)
    assert text.startswith("New opening paragraph.\n\nFirst paragraph.")
    assert "Second paragraph, longer." in text


def test_one_side_deleting_and_the_other_editing_elsewhere() -> None:
    theirs = "First paragraph.\n\nThird paragraph."
    yours = BASE.replace("Third paragraph.", "Third, changed.")
    assert merged(BASE, theirs, yours) == "First paragraph.\n\nThird, changed."


def test_the_same_change_on_both_sides_is_applied_once_and_listed() -> None:
    both = BASE.replace("Second", "2nd")
    pieces = plan_text(BASE, both, both)
    assert clashes(pieces) == []
    assert [piece.kind for piece in automatic(pieces)] == [PieceKind.ALIKE]
    assert resolve(pieces, []) == both


def test_only_one_side_changed() -> None:
    yours = BASE + "\n\nFourth paragraph."
    assert merged(BASE, BASE, yours) == yours
    assert merged(BASE, yours, BASE) == yours


def test_nothing_changed_is_one_unchanged_piece() -> None:
    pieces = plan_text(BASE, BASE, BASE)
    assert [piece.kind for piece in pieces] == [PieceKind.SAME]
    assert automatic(pieces) == []
    assert clashes(pieces) == []


CLASHING = (
    BASE,
    BASE.replace("Second paragraph.", "Second paragraph as they wrote it."),
    BASE.replace("Second paragraph.", "Second paragraph as you wrote it.").replace("First", "Opening"),
)


def test_a_clash_and_an_automatic_change_are_told_apart() -> None:
    pieces = plan_text(*CLASHING)
    [clash] = clashes(pieces)
    assert clash.theirs_text == "Second paragraph as they wrote it."
    assert clash.yours_text == "Second paragraph as you wrote it."
    assert clash.base_text == "Second paragraph."
    [change] = automatic(pieces)
    assert change.kind == PieceKind.YOURS
    assert change.automatic == ("Opening paragraph.",)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (Resolution(Choice.MINE), "Second paragraph as you wrote it."),
        (Resolution(Choice.THEIRS), "Second paragraph as they wrote it."),
        (Resolution(Choice.BOTH), "Second paragraph as they wrote it.\n\nSecond paragraph as you wrote it."),
        (Resolution(Choice.EDIT, "Second paragraph, written together."), "Second paragraph, written together."),
    ],
)
def test_each_choice_settles_the_clash_and_keeps_the_automatic_change(choice: Resolution, expected: str) -> None:
    text = resolve(plan_text(*CLASHING), [choice])
    assert text == f"Opening paragraph.\n\n{expected}\n\nThird paragraph."
    assert no_markers(text)


def test_an_empty_edit_removes_the_clashing_lines() -> None:
    assert resolve(plan_text(*CLASHING), [Resolution(Choice.EDIT, "")]) == "Opening paragraph.\n\n\nThird paragraph."


def test_a_missing_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="1 clashes, 0 resolutions"):
        resolve(plan_text(*CLASHING), [])


def test_both_inserting_at_the_same_place_is_a_clash() -> None:
    pieces = plan_text("a\nb", "a\nfrom them\nb", "a\nfrom you\nb")
    [clash] = clashes(pieces)
    assert (clash.theirs, clash.yours, clash.base) == (("from them",), ("from you",), ())
    assert resolve(pieces, [Resolution(Choice.BOTH)]) == "a\nfrom them\n\nfrom you\nb"


def test_nothing_typed_is_lost_in_a_clash() -> None:
    theirs = "Their whole new text.\nWith two lines."
    yours = "Your whole new text."
    pieces = plan_text(BASE, theirs, yours)
    assert len(clashes(pieces)) == 1
    text = resolve(pieces, [Resolution(Choice.BOTH)])
    for line in [*theirs.split("\n"), *yours.split("\n")]:
        assert line in text


def test_an_empty_base_makes_every_difference_a_clash() -> None:
    assert len(clashes(plan_text("", "theirs", "yours"))) == 1


def test_line_endings_are_normalised() -> None:
    assert merged("a\r\nb", "a\r\nB", "A\nb") == "A\nB"


def test_a_title_is_one_piece() -> None:
    assert [piece.kind for piece in plan_line("title", "title", "yours")] == [PieceKind.YOURS]
    assert [piece.kind for piece in plan_line("title", "theirs", "title")] == [PieceKind.THEIRS]
    assert [piece.kind for piece in plan_line("title", "same", "same")] == [PieceKind.ALIKE]
    assert [piece.kind for piece in plan_line("title", "title", "title")] == [PieceKind.SAME]
    pieces = plan_line("title", "Their title", "Your title")
    assert len(clashes(pieces)) == 1
    assert resolve(pieces, [Resolution(Choice.BOTH)], one_line=True) == "Their title / Your title"
    assert resolve(pieces, [Resolution(Choice.MINE)], one_line=True) == "Your title"
    assert resolve(plan_line("title", "Theirs", "title"), [], one_line=True) == "Theirs"


def test_changes_lists_replacements_in_base_order() -> None:
    assert changes(["a", "b", "c"], ["a", "B", "c", "d"]) == [Change(1, 2, ("B",)), Change(3, 3, ("d",))]


def test_clashing_changes() -> None:
    assert Change(1, 3, ()).touches(Change(2, 4, ()))
    assert not Change(1, 2, ()).touches(Change(2, 3, ()))
    assert Change(2, 2, ("x",)).touches(Change(2, 2, ("y",)))
    assert Change(2, 2, ("x",)).touches(Change(1, 3, ()))
    assert not Change(1, 1, ("x",)).touches(Change(1, 3, ()))


def test_conflict_marker_line() -> None:
    assert conflict_marker_line("plain\ntext") is None
    assert conflict_marker_line("plain\n=======\n") == 2
    assert conflict_marker_line(f"{THEIRS_MARKER} their version\nx") == 1
    assert conflict_marker_line(f"a\n{YOURS_MARKER} your version") == 2
    assert conflict_marker_line("a\nb\n>>>>>>>") == 3
    assert conflict_marker_line("a ======= b") is None
