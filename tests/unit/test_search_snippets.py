"""Snippets: the densest stretch of matches, cut at words, marked up and escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Collection

from markupsafe import Markup

from kb.search.schema import text_analyzer
from kb.search.snippets import SNIPPET_CHARS, Match, find_matches, mark, snippet

ANALYZER = text_analyzer()
FILLER = " ".join(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"] * 12)
ELLIPSIS = "…"


def matches(text: str, terms: Collection[str]) -> list[Match]:
    return find_matches(text, set(terms), ANALYZER)


def marked_words(fragment: Markup) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", str(fragment))


def body_of(fragment: Markup) -> str:
    """The snippet as plain text, without its marks or ellipses."""
    return html.unescape(re.sub(r"</?mark>", "", str(fragment))).strip(ELLIPSIS)


def test_find_matches_finds_every_form_of_a_stemmed_term():
    text = "Tenders, tendering and the tender"
    found = matches(text, {"tender"})
    assert [text[m.start : m.end] for m in found] == ["Tenders", "tendering", "tender"]


def test_find_matches_ignores_other_words_and_no_terms():
    assert matches("cost and quality", {"tender"}) == []
    assert matches("cost and quality", set()) == []


def test_mark_wraps_each_match():
    text = "cost and quality"
    assert str(mark(text, matches(text, {"cost", "qualiti"}))) == "<mark>cost</mark> and <mark>quality</mark>"


def test_mark_returns_markup_so_templates_do_not_escape_it_again():
    assert isinstance(mark("cost", matches("cost", {"cost"})), Markup)
    assert isinstance(snippet("cost", matches("cost", {"cost"})), Markup)


def test_mark_escapes_html_in_and_around_matches():
    text = '<script>alert("cost")</script> & <b>cost</b>'
    marked = str(mark(text, matches(text, {"cost"})))
    assert "<script>" not in marked
    assert "<b>" not in marked
    assert "&lt;script&gt;" in marked
    assert "&amp;" in marked
    assert marked.count("<mark>cost</mark>") == 2


def test_snippet_escapes_html():
    text = "<script>alert(1)</script> the cost of <img src=x onerror=alert(2)> tendering"
    fragment = str(snippet(text, matches(text, {"cost"})))
    assert "<script>" not in fragment
    assert "<img" not in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert "<mark>cost</mark>" in fragment


def test_snippet_without_matches_is_the_start_of_the_text_cut_at_a_word():
    fragment = snippet(FILLER, [])
    body = body_of(fragment)
    assert str(fragment).endswith(ELLIPSIS)
    assert not str(fragment).startswith(ELLIPSIS)
    assert FILLER.startswith(body)
    assert FILLER[len(body)] == " "
    assert SNIPPET_CHARS <= len(body) < SNIPPET_CHARS + len("foxtrot ")
    assert marked_words(fragment) == []


def test_snippet_of_a_short_text_is_the_whole_text():
    assert str(snippet("Pause the roll-out.", [])) == "Pause the roll-out."
    text = "Pause the roll-out."
    assert str(snippet(text, matches(text, {"paus"}))) == "<mark>Pause</mark> the roll-out."


def test_snippet_chooses_the_densest_window():
    text = f"Cost comes first. {FILLER} Here cost and quality were weighed, cost over quality. {FILLER}"
    fragment = snippet(text, matches(text, {"cost", "qualiti"}))
    assert marked_words(fragment) == ["cost", "quality", "cost", "quality"]
    assert "Cost comes first" not in str(fragment)
    assert str(fragment).startswith(ELLIPSIS)
    assert str(fragment).endswith(ELLIPSIS)


def test_snippet_shows_some_words_before_the_first_match():
    text = f"{FILLER} the tender was weighted towards cost. {FILLER}"
    body = body_of(snippet(text, matches(text, {"tender"})))
    assert body.index("tender") > 20


def test_snippet_is_cut_at_word_boundaries():
    text = f"{FILLER} Providers were pressed to go live before they were ready. {FILLER}"
    fragment = snippet(text, matches(text, {"readi", "press"}))
    body = body_of(fragment)
    start = text.index(body)
    end = start + len(body)
    assert start == 0 or text[start - 1] == " "
    assert end == len(text) or text[end] == " "
    assert len(body) <= SNIPPET_CHARS + len("foxtrot ")


def test_snippet_at_the_start_has_no_leading_ellipsis():
    text = f"Cost weighting came first. {FILLER}"
    fragment = str(snippet(text, matches(text, {"cost"})))
    assert fragment.startswith("<mark>Cost</mark> weighting")
    assert fragment.endswith(ELLIPSIS)


def test_snippet_at_the_end_has_no_trailing_ellipsis():
    text = f"{FILLER} and finally the cost."
    fragment = str(snippet(text, matches(text, {"cost"})))
    assert fragment.startswith(ELLIPSIS)
    assert fragment.endswith("the <mark>cost</mark>.")


def test_snippet_marks_only_matches():
    text = f"{FILLER} costly costs cost {FILLER}"
    fragment = snippet(text, matches(text, {"cost"}))
    assert marked_words(fragment) == ["costs", "cost"]
