"""Spelling corrections: nearest known word first, then the most frequent; operators and fields left alone."""

from __future__ import annotations

import pytest

from kb.search.spelling import allowed_distance, best_candidate, correct, edit_distance

KNOWN = {"pressure": 9, "penalty": 3, "penalties": 2, "cheaper": 2, "software": 4, "tender": 5, "tenders": 3}


def is_known(word: str) -> bool:
    return word in KNOWN or word in {"the", "to", "go", "live"}


def near_words(word: str, distance: int) -> list[str]:
    return [known for known in KNOWN if known[0] == word[0] and edit_distance(word, known) <= distance]


def frequency(word: str) -> int:
    return KNOWN.get(word, 0)


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [
        ("", "", 0),
        ("a", "", 1),
        ("presure", "pressure", 1),
        ("softwre", "software", 1),
        ("teh", "the", 1),
        ("kitten", "sitting", 3),
        ("abc", "abc", 0),
    ],
)
def test_edit_distance_counts_insertions_deletions_substitutions_and_swaps(first, second, distance):
    assert edit_distance(first, second) == distance
    assert edit_distance(second, first) == distance


def test_short_words_may_be_one_edit_away_and_longer_ones_two():
    assert allowed_distance("fine") == 1
    assert allowed_distance("pressure") == 2


def test_each_unknown_word_is_replaced_by_the_nearest_known_word():
    assert correct("presure to go live", is_known, near_words, frequency) == "pressure to go live"
    assert correct("softwre tendr", is_known, near_words, frequency) == "software tender"


def test_the_nearest_word_wins_over_a_more_frequent_one_further_away():
    assert best_candidate("penaltie", near_words, frequency) == "penalties"


def test_among_equally_near_words_the_most_frequent_wins():
    assert best_candidate("tendera", near_words, frequency) in {"tender", "tenders"}
    assert best_candidate("tendera", near_words, lambda word: {"tenders": 9}.get(word, 1)) == "tenders"


def test_a_word_without_a_near_known_word_is_left_and_nothing_changes():
    assert correct("zebra crossing", is_known, near_words, frequency) is None


def test_words_with_no_visible_entry_are_never_offered():
    assert best_candidate("presure", near_words, lambda word: 0) is None


@pytest.mark.parametrize("typed", ["presure*", "presure~", "title:cost", "presure:x", "AND", "NOT cost", "ab", "2013"])
def test_operators_field_names_prefixes_fuzzy_words_short_words_and_numbers_are_not_corrected(typed):
    result = correct(typed, is_known, near_words, frequency)
    assert result is None or result == typed


def test_quotes_and_operators_around_a_corrected_word_are_kept():
    assert (
        correct('"presure to go live" OR softwre', is_known, near_words, frequency)
        == '"pressure to go live" OR software'
    )
