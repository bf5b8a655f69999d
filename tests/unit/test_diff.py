"""The revision diff: word-level changes, folded gaps and counts."""

from __future__ import annotations

from kb.entries.diff import DiffRow, Segment, diff_texts


def numbered(count: int, prefix: str = "line") -> list[str]:
    return [f"{prefix} {number}" for number in range(1, count + 1)]


def text_of(row: DiffRow) -> str:
    return "".join(segment.text for segment in row.segments)


def changed_text(row: DiffRow) -> list[str]:
    return [segment.text for segment in row.segments if segment.changed]


def test_identical_texts():
    text = "\n".join(numbered(20))
    diff = diff_texts(text, text)
    assert diff.identical
    assert diff.added == 0
    assert diff.removed == 0
    assert all(row.kind in ("same", "gap") for row in diff.rows)
    assert not any(row.kind in ("added", "removed") for row in diff.rows)


def test_identical_short_texts():
    diff = diff_texts("one line", "one line")
    assert diff.identical
    assert [(row.kind, text_of(row)) for row in diff.rows] == [("same", "one line")]


def test_empty_texts():
    diff = diff_texts("", "")
    assert diff.identical
    assert diff.rows == []


def test_word_level_change_marks_only_the_changed_words():
    diff = diff_texts("The quick brown fox jumps.", "The slow brown fox jumps.")
    assert not diff.identical
    assert (diff.added, diff.removed) == (1, 1)
    removed, added = diff.rows
    assert removed.kind == "removed"
    assert added.kind == "added"
    assert (removed.old_number, removed.new_number) == (1, None)
    assert (added.old_number, added.new_number) == (None, 1)
    assert changed_text(removed) == ["quick"]
    assert changed_text(added) == ["slow"]
    assert text_of(removed) == "The quick brown fox jumps."
    assert text_of(added) == "The slow brown fox jumps."


def test_word_change_next_to_punctuation():
    diff = diff_texts("status: draft", "status: published")
    removed, added = diff.rows
    assert changed_text(removed) == ["draft"]
    assert changed_text(added) == ["published"]
    assert [segment for segment in removed.segments if not segment.changed] == [Segment("status: ", False)]


def test_changed_segments_rebuild_each_line():
    old = "Penalties do not, in themselves, help patients.\nSecond line stays."
    new = "Penalties alone do not help patients at all.\nSecond line stays."
    diff = diff_texts(old, new)
    removed = [row for row in diff.rows if row.kind == "removed"]
    added = [row for row in diff.rows if row.kind == "added"]
    assert [text_of(row) for row in removed] == ["Penalties do not, in themselves, help patients."]
    assert [text_of(row) for row in added] == ["Penalties alone do not help patients at all."]
    assert "alone" in " ".join(changed_text(added[0]))
    assert "themselves" in " ".join(changed_text(removed[0]))
    assert "Penalties" not in " ".join(changed_text(added[0]))


def test_added_and_removed_lines_are_wholly_changed():
    diff = diff_texts("a\nb\nc", "a\nc\nd")
    kinds = [(row.kind, text_of(row)) for row in diff.rows]
    assert ("removed", "b") in kinds
    assert ("added", "d") in kinds
    for row in diff.rows:
        if row.kind in ("added", "removed"):
            assert all(segment.changed for segment in row.segments)
    assert (diff.added, diff.removed) == (1, 1)


def test_counts_of_a_block_of_unequal_size():
    old = "keep\nold one\nold two\nold three\nkeep too"
    new = "keep\nnew one\nkeep too"
    diff = diff_texts(old, new)
    assert (diff.removed, diff.added) == (3, 1)
    changed = [row for row in diff.rows if row.kind in ("added", "removed")]
    # Removed lines come before added ones, with their own numbers.
    assert [(row.kind, row.old_number, row.new_number) for row in changed] == [
        ("removed", 2, None),
        ("removed", 3, None),
        ("removed", 4, None),
        ("added", None, 2),
    ]


def test_line_numbers_follow_each_side_after_an_insertion():
    old = numbered(10)
    new = [*old[:2], "inserted", *old[2:]]
    new[8] = "line 8 changed"
    diff = diff_texts("\n".join(old), "\n".join(new))
    same = [row for row in diff.rows if row.kind == "same"]
    for row in same:
        assert text_of(row) == old[row.old_number - 1]
        assert text_of(row) == new[row.new_number - 1]
    [inserted] = [row for row in diff.rows if row.kind == "added" and text_of(row) == "inserted"]
    assert inserted.new_number == 3
    [changed] = [row for row in diff.rows if row.kind == "added" and text_of(row) == "line 8 changed"]
    assert changed.new_number == 9
    assert (diff.added, diff.removed) == (2, 1)


def test_long_unchanged_runs_fold_into_gaps():
    old = numbered(30)
    new = list(old)
    new[14] = "line fifteen"
    diff = diff_texts("\n".join(old), "\n".join(new), context=3)
    kinds = [row.kind for row in diff.rows]
    assert kinds == ["gap", "same", "same", "same", "removed", "added", "same", "same", "same", "gap"]
    assert diff.rows[0].skipped == 11
    assert diff.rows[-1].skipped == 12
    assert [row.old_number for row in diff.rows[1:4]] == [12, 13, 14]
    assert [row.old_number for row in diff.rows[6:9]] == [16, 17, 18]
    shown = sum(1 for row in diff.rows if row.kind == "same") + diff.rows[0].skipped + diff.rows[-1].skipped
    assert shown == 29


def test_gap_between_two_changes_keeps_context_on_both_sides():
    old = numbered(20)
    new = list(old)
    new[1] = "changed 2"
    new[17] = "changed 18"
    diff = diff_texts("\n".join(old), "\n".join(new), context=2)
    [gap] = [row for row in diff.rows if row.kind == "gap"]
    # Lines 3..17 are unchanged: 2 kept after the first change, 2 before the second.
    assert gap.skipped == 15 - 4
    index = diff.rows.index(gap)
    assert [row.old_number for row in diff.rows[index - 2 : index]] == [3, 4]
    assert [row.old_number for row in diff.rows[index + 1 : index + 3]] == [16, 17]


def test_a_gap_of_one_line_is_never_folded():
    old = numbered(9)
    new = list(old)
    new[0] = "first changed"
    new[8] = "last changed"
    # Seven unchanged lines between: 3 + 3 of context + 1 would leave a one-line gap.
    diff = diff_texts("\n".join(old), "\n".join(new), context=3)
    assert not any(row.kind == "gap" for row in diff.rows)
    assert [row.old_number for row in diff.rows if row.kind == "same"] == list(range(2, 9))


def test_context_zero_folds_everything_unchanged():
    old = numbered(10)
    new = list(old)
    new[4] = "changed"
    diff = diff_texts("\n".join(old), "\n".join(new), context=0)
    assert [row.kind for row in diff.rows] == ["gap", "removed", "added", "gap"]
    assert [row.skipped for row in diff.rows if row.kind == "gap"] == [4, 5]


def test_added_text_at_the_end():
    diff = diff_texts("a\nb", "a\nb\nc\nd")
    assert (diff.added, diff.removed) == (2, 0)
    assert [(row.kind, text_of(row)) for row in diff.rows] == [
        ("same", "a"),
        ("same", "b"),
        ("added", "c"),
        ("added", "d"),
    ]


def test_everything_removed():
    diff = diff_texts("a\nb", "")
    assert (diff.added, diff.removed) == (0, 2)
    assert [row.kind for row in diff.rows] == ["removed", "removed"]
