"""The three-way merge of a finding's texts: clean where two people changed different lines, marked where they clash."""

from __future__ import annotations

from kb.panels.merge import (
    MIDDLE_MARKER,
    THEIRS_MARKER,
    YOURS_MARKER,
    Change,
    changes,
    conflict_marker_line,
    merge_line,
    merge_texts,
)

BASE = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph."
LABELS = {"their_label": "their version", "your_label": "your version"}


def merge(base: str, theirs: str, yours: str):
    return merge_texts(base, theirs, yours, **LABELS)


def test_changes_to_different_paragraphs_combine_cleanly() -> None:
    theirs = BASE.replace("First paragraph.", "First paragraph, reworded by them.")
    yours = BASE.replace("Third paragraph.", "Third paragraph, reworded by you.")
    result = merge(BASE, theirs, yours)
    assert result.clean
    assert result.text == "First paragraph, reworded by them.\n\nSecond paragraph.\n\nThird paragraph, reworded by you."


def test_changes_to_adjacent_lines_combine_cleanly() -> None:
    base = "one\ntwo\nthree"
    result = merge(base, "one\nTWO\nthree", "one\ntwo\nTHREE")
    assert result.clean
    assert result.text == "one\nTWO\nTHREE"


def test_an_insertion_and_an_edit_elsewhere_combine() -> None:
    theirs = "New opening paragraph.\n\n" + BASE
    yours = BASE.replace("Second paragraph.", "Second paragraph, longer.")
    result = merge(BASE, theirs, yours)
    assert result.clean
    assert result.text.startswith("New opening paragraph.\n\nFirst paragraph.")
    assert "Second paragraph, longer." in result.text


def test_one_side_deleting_and_the_other_editing_elsewhere() -> None:
    theirs = "First paragraph.\n\nThird paragraph."
    yours = BASE.replace("Third paragraph.", "Third, changed.")
    result = merge(BASE, theirs, yours)
    assert result.clean
    assert result.text == "First paragraph.\n\nThird, changed."


def test_the_same_change_on_both_sides_is_not_a_conflict() -> None:
    both = BASE.replace("Second", "2nd")
    result = merge(BASE, both, both)
    assert result.clean
    assert result.text == both


def test_only_one_side_changed() -> None:
    yours = BASE + "\n\nFourth paragraph."
    assert merge(BASE, BASE, yours).text == yours
    assert merge(BASE, yours, BASE).text == yours


def test_both_changing_the_same_line_keeps_both_between_markers() -> None:
    theirs = BASE.replace("Second paragraph.", "Second paragraph as they wrote it.")
    yours = BASE.replace("Second paragraph.", "Second paragraph as you wrote it.")
    result = merge(BASE, theirs, yours)
    assert result.conflicts == 1
    lines = result.text.split("\n")
    start = lines.index(f"{THEIRS_MARKER} their version")
    assert lines[start : start + 5] == [
        f"{THEIRS_MARKER} their version",
        "Second paragraph as they wrote it.",
        MIDDLE_MARKER,
        "Second paragraph as you wrote it.",
        f"{YOURS_MARKER} your version",
    ]
    # The untouched paragraphs are still there, once each.
    assert result.text.count("First paragraph.") == 1
    assert result.text.count("Third paragraph.") == 1


def test_both_inserting_at_the_same_place_is_a_conflict() -> None:
    result = merge("a\nb", "a\nfrom them\nb", "a\nfrom you\nb")
    assert result.conflicts == 1
    assert "from them" in result.text
    assert "from you" in result.text


def test_nothing_typed_is_lost_in_a_conflict() -> None:
    theirs = "Their whole new text.\nWith two lines."
    yours = "Your whole new text."
    result = merge(BASE, theirs, yours)
    assert result.conflicts == 1
    for line in [*theirs.split("\n"), *yours.split("\n")]:
        assert line in result.text


def test_an_empty_base_marks_every_difference() -> None:
    result = merge("", "theirs", "yours")
    assert result.conflicts == 1


def test_line_endings_are_normalised() -> None:
    result = merge("a\r\nb", "a\r\nB", "A\nb")
    assert result.text == "A\nB"


def test_changes_lists_replacements_in_base_order() -> None:
    assert changes(["a", "b", "c"], ["a", "B", "c", "d"]) == [Change(1, 2, ("B",)), Change(3, 3, ("d",))]


def test_clashing_changes() -> None:
    assert Change(1, 3, ()).touches(Change(2, 4, ()))
    assert not Change(1, 2, ()).touches(Change(2, 3, ()))
    assert Change(2, 2, ("x",)).touches(Change(2, 2, ("y",)))
    assert Change(2, 2, ("x",)).touches(Change(1, 3, ()))
    assert not Change(1, 1, ("x",)).touches(Change(1, 3, ()))


def test_merge_line() -> None:
    assert merge_line("title", "title", "yours") == ("yours", False)
    assert merge_line("title", "theirs", "title") == ("theirs", False)
    assert merge_line("title", "same", "same") == ("same", False)
    assert merge_line("title", "theirs", "yours") == ("yours", True)


def test_conflict_marker_line() -> None:
    assert conflict_marker_line("plain\ntext") is None
    assert conflict_marker_line("plain\n=======\n") == 2
    assert conflict_marker_line(f"{THEIRS_MARKER} their version\nx") == 1
    assert conflict_marker_line("a\nb\n>>>>>>>") == 3
    assert conflict_marker_line("a ======= b") is None
