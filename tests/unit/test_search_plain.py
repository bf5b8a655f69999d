"""Plain-language reading, compounds and the relevance bonuses, without an index."""

from __future__ import annotations

import pytest
from whoosh import query as q

from kb.search.query import in_title, parse_user_query, plain_words, with_compounds
from kb.search.ranking import with_bonuses
from kb.search.spelling import joined_compound, split_compound

VOCABULARY = {"go", "live", "pay", "back", "payback", "north", "west", "give"}


def known(word: str) -> bool:
    return word in VOCABULARY


def test_question_and_filler_words_are_left_out():
    assert plain_words("why did the North West service fail?") == ["the", "North", "West", "service", "fail"]


def test_a_query_of_only_filler_words_keeps_them():
    assert plain_words("how much") == ["how", "much"]


@pytest.mark.parametrize(
    "text",
    ["cost AND quality", '"car crash"', "title:cost", "commission*", "consortuim~", "(cost)", "'cost'", "te?der"],
)
def test_search_syntax_is_not_plain(text):
    assert plain_words(text) is None
    assert parse_user_query(text).units == ()


def test_a_plain_query_has_one_unit_per_word_and_all_of_them_together():
    parsed = parse_user_query("why did the tenders fail?")
    assert [word for word, _ in parsed.units] == ["tenders", "fail"]
    assert parsed.query == q.And([q.Term("text", "tender"), q.Term("text", "fail")])


def test_an_unknown_word_of_two_known_ones_also_finds_them_as_a_phrase():
    parsed = with_compounds(parse_user_query("golive"), known)
    assert parsed.query == q.Or([q.Term("text", "goliv"), q.Phrase("text", ["go", "live"])])


def test_neighbouring_words_also_find_their_joined_form():
    parsed = with_compounds(parse_user_query("pay back"), known)
    assert parsed.query == q.Or([q.And([q.Term("text", "pai"), q.Term("text", "back")]), q.Term("text", "payback")])
    assert len(parsed.units) == 1


def test_a_hyphenated_word_also_finds_its_joined_form():
    parsed = with_compounds(parse_user_query("pay-back"), known)
    assert q.Term("text", "payback") in parsed.query.subqueries


def test_words_without_a_compound_are_left_alone():
    parsed = parse_user_query("north west")
    assert with_compounds(parsed, known).query == parsed.query


def test_split_compound():
    assert split_compound("golive", known) == ("go", "live")
    assert split_compound("payback", known) is None  # A known word is not split.
    assert split_compound("gxlive", known) is None
    assert joined_compound("go", "live", lambda word: word == "golive") == "golive"
    assert joined_compound("go", "live", known) is None


def test_in_title_moves_only_text_words():
    node = q.And([q.Term("text", "cost"), q.Term("tag", "cost")])
    assert in_title(node) == q.And([q.Term("title", "cost"), q.Term("tag", "cost")])
    assert node == q.And([q.Term("text", "cost"), q.Term("tag", "cost")])


def test_covering_more_words_outranks_a_slightly_better_score():
    scored = [("one word, high score", 10.0), ("every word", 8.0)]
    covered = {"one word, high score": 1, "every word": 3}
    assert with_bonuses(scored, covered.__getitem__, lambda key: 0, 3) == ["every word", "one word, high score"]


def test_a_title_match_counts():
    scored = [("body", 5.0), ("title", 5.0)]
    assert with_bonuses(scored, lambda key: 2, lambda key: 2 if key == "title" else 0, 2) == ["title", "body"]


def test_equal_values_keep_the_score_order():
    scored = [("a", 1.0), ("b", 1.0), ("c", 1.0)]
    assert with_bonuses(scored, lambda key: 1, lambda key: 0, 2) == ["a", "b", "c"]
