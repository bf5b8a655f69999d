"""The PostgreSQL search backend's pure helpers: weights, part gaps, tsquery quoting, phrases, marked snippets."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from whoosh import query as q

from kb.search.documents import PART_WEIGHTS
from kb.search.page_texts import IndexedDocuments
from kb.search.pg.headlines import MARK_END, MARK_START, best, marked
from kb.search.pg.indexing import PART_GAP, capped_documents, grouped_texts, weight_letter
from kb.search.pg.query import _typed_phrase, lexeme_literal
from kb.search.query import parse_user_query


@pytest.mark.parametrize(
    ("part", "letter"),
    [
        ("title", "A"),
        ("summary", "B"),
        ("lesson", "B"),
        ("recommendation", "C"),
        ("tags", "C"),
        ("body", "D"),
        ("evidence", "D"),
        ("comments", "D"),
    ],
)
def test_each_part_has_its_weight_letter(part, letter):
    assert weight_letter(PART_WEIGHTS[part]) == letter


def test_parts_are_grouped_by_letter_each_after_a_gap():
    texts = grouped_texts([("Title", 3.0), ("Summary", 2.0), ("Lesson", 2.0), ("Body", 1.0), ("  ", 1.0)])
    assert texts == {
        "a": PART_GAP + "Title",
        "b": PART_GAP + "Summary" + PART_GAP + "Lesson",
        "c": "",
        "d": PART_GAP + "Body",
    }


def test_the_gap_is_only_stop_words():
    assert set(PART_GAP.split()) == {"and"}


def test_null_characters_are_not_sent_to_the_database():
    assert "\x00" not in grouped_texts([("a\x00b", 1.0)])["d"]


@pytest.mark.parametrize(
    ("word", "suffix", "literal"),
    [("tender", "", "'tender'"), ("o'neill", ":A", "'o''neill':A"), ("back\\slash", ":*", "'back\\\\slash':*")],
)
def test_a_lexeme_is_quoted_for_to_tsquery(word, suffix, literal):
    assert lexeme_literal(word, suffix) == literal


def test_a_phrase_is_matched_as_it_was_typed_stop_words_and_all():
    parsed = parse_user_query('"pressed to go live" tenders')
    [phrase] = [node for node in parsed.query.leaves() if isinstance(node, q.Phrase)]
    assert _typed_phrase(phrase, parsed.typed) == "pressed to go live"


def test_a_phrase_not_found_in_the_typed_text_falls_back_to_its_words():
    phrase = q.Phrase("text", ["car", "crash"])
    assert _typed_phrase(phrase, "nothing quoted") == "car crash"


def test_a_headline_is_escaped_before_its_words_are_marked():
    snippet = marked(f"5 < 7 & {MARK_START}<b>bold</b>{MARK_END} end")
    assert isinstance(snippet, Markup)
    assert str(snippet) == "5 &lt; 7 &amp; <mark>&lt;b&gt;bold&lt;/b&gt;</mark> end"


def test_the_part_with_most_marked_words_gives_the_snippet():
    one, two = f"{MARK_START}a{MARK_END}", f"{MARK_START}a{MARK_END} {MARK_START}b{MARK_END}"
    assert best([("summary", one), ("lesson", two), ("body", two)]) == ("lesson", two)
    assert best([("summary", "no marks")]) is None


def test_only_the_first_bytes_of_an_entrys_pages_go_into_its_tsvector() -> None:
    documents = IndexedDocuments(("Minutes",), ("one two", "three four five", "six"))
    assert capped_documents(documents, limit=100) == documents
    assert capped_documents(documents, limit=7 + 11).pages == ("one two", "three four")
    assert capped_documents(documents, limit=7 + 10).pages == ("one two", "three four")
    assert capped_documents(documents, limit=7 + 9).pages == ("one two", "three")
    assert capped_documents(documents, limit=7 + 3).pages == ("one two",)
    # The limit counts bytes, not characters.
    assert capped_documents(IndexedDocuments((), ("é" * 4 + " b",)), limit=8).pages == ("éééé",)
    assert capped_documents(IndexedDocuments((), ("é" * 4 + " b",)), limit=7).pages == ()
    assert capped_documents(None) is None
