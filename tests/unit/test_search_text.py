"""Plain text for the search index: Markdown markup removed, words kept; facet keys."""

from __future__ import annotations

import pytest

from kb.search.text import facet_key, plain_text


def test_link_keeps_its_text_and_loses_its_address():
    assert plain_text("See [the HSJ report](https://www.hsj.co.uk/a_b) for more.") == "See the HSJ report for more."


def test_wiki_link_with_words_keeps_the_words():
    text = "As [[north-west-contract-won-on-cheaper-bid|the North West account]] shows."
    assert plain_text(text) == "As the North West account shows."


def test_wiki_link_without_words_reads_as_its_slug_when_its_target_is_not_known():
    assert plain_text("See [[pilot-feedback-not-properly-heard]].") == "See pilot-feedback-not-properly-heard."


def test_wiki_links_read_as_the_reader_given_says():
    titles = {"pilot-feedback-not-properly-heard": "Pilot feedback was not heard"}

    def read(slug: str, words: str | None) -> str:
        return words or titles.get(slug, slug)

    text = "See [[pilot-feedback-not-properly-heard]] and [[pilot-feedback-not-properly-heard|the pilot]]."
    assert plain_text(text, read) == "See Pilot feedback was not heard and the pilot."


def test_image_keeps_its_alt_text():
    assert plain_text("![a chart of calls](calls.png) here") == "a chart of calls here"


def test_headings_lose_their_hashes():
    assert plain_text("# Title\n\n## Driving event\n\nText") == "Title\nDriving event\n\nText"


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**bold** words", "bold words"),
        ("*emphasised* words", "emphasised words"),
        ("__strong__ words", "strong words"),
        ("_light_ words", "light words"),
        ("~~struck~~ words", "struck words"),
        ("`code` words", "code words"),
        ("***both*** words", "both words"),
        ("**nested _emphasis_ here**", "nested emphasis here"),
    ],
)
def test_emphasis_marks_are_removed(markdown, expected):
    assert plain_text(markdown) == expected


def test_underscores_inside_a_word_are_not_emphasis():
    # CommonMark never reads intraword underscores as emphasis, so the word must survive whole.
    assert plain_text("the nhs_111_pilot file") == "the nhs_111_pilot file"


@pytest.mark.parametrize("fence", ["```", "~~~"])
def test_code_fences_are_removed_and_their_lines_kept(fence):
    text = plain_text(f"Before\n\n{fence}python\nprint(calls)\n{fence}\n\nAfter")
    assert fence not in text
    assert "python" not in text
    assert "print(calls)" in text
    assert text.startswith("Before")
    assert text.endswith("After")


def test_table_keeps_cell_words_without_pipes_or_rules():
    text = plain_text("| Criterion | Weight |\n|-----------|:------:|\n| Cost | 60 |\n| Quality | 40 |")
    assert "|" not in text
    assert "-" not in text
    assert ":" not in text
    assert text.split() == ["Criterion", "Weight", "Cost", "60", "Quality", "40"]


def test_quotes_and_list_marks_are_removed():
    text = plain_text("> quoted words\n\n- first item\n* second item\n1. numbered\n2) also numbered")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines == ["quoted words", "first item", "second item", "numbered", "also numbered"]


def test_footnote_references_are_removed():
    assert plain_text("A claim[^1].\n\n[^1]: The source.") == "A claim.\n\n The source."


def test_autolink_keeps_its_address():
    assert plain_text("Read <https://example.org/report> now") == "Read https://example.org/report now"


def test_html_tags_are_removed_but_their_words_kept():
    assert plain_text("x <b>bold</b> <br/> y") == "x bold y"


def test_spaces_and_blank_lines_are_collapsed():
    assert plain_text("  A   lot\t of   space\n\n\n\n\nend  ") == "A lot of space\n\nend"


def test_plain_text_is_unchanged():
    text = "NHS 111 went live on 1 April 2013, in about half of England."
    assert plain_text(text) == text


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Cost versus quality", "cost-versus-quality"),
        ("North West", "north-west"),
        ("north-west", "north-west"),
        ("  --Hello, World!--  ", "hello-world"),
        ("NHS 111", "nhs-111"),
        ("Meeting papers", "meeting-papers"),
        ("a/b & c", "a-b-c"),
        ("", ""),
    ],
)
def test_facet_key(value, key):
    assert facet_key(value) == key


def test_facet_key_is_idempotent():
    assert (
        facet_key(facet_key("Handover from Primary Care Trusts to CCGs")) == "handover-from-primary-care-trusts-to-ccgs"
    )
