"""Stable paragraph anchors: made from a paragraph's own words, unmoved by edits around it, found again after edits."""

from __future__ import annotations

from kb.markdown import render
from kb.paragraphs import (
    CHANGED,
    EXACT,
    GONE,
    Paragraph,
    assign_anchors,
    base_anchor,
    excerpt,
    is_anchor,
    resolve,
)

PAPER = """The service went live in stages across the region.

Call handlers followed scripts written for a national service.

- Ambulance dispatches rose in the first month.
- Out-of-hours providers reported more referrals.
"""


def _anchors(text: str) -> dict[str, str]:
    return {paragraph.text: paragraph.anchor for paragraph in render(text, paragraph_anchors=True).paragraphs}


def test_every_paragraph_and_list_item_gets_an_anchor_from_its_words() -> None:
    rendered = render(PAPER, paragraph_anchors=True)
    texts = [paragraph.text for paragraph in rendered.paragraphs]
    assert texts == [
        "The service went live in stages across the region.",
        "Call handlers followed scripts written for a national service.",
        "Ambulance dispatches rose in the first month.",
        "Out-of-hours providers reported more referrals.",
    ]
    for paragraph in rendered.paragraphs:
        assert is_anchor(paragraph.anchor)
        assert f'id="{paragraph.anchor}"' in rendered.html
        assert paragraph.anchor == base_anchor(paragraph.text)


def test_anchors_survive_inserting_before_and_rewording_other_paragraphs() -> None:
    before = _anchors(PAPER)
    edited = (
        "A new opening paragraph, added later.\n\n"
        + PAPER.replace("went live in stages across the region", "was introduced area by area")
        + "\nA closing note.\n"
    )
    after = _anchors(edited)
    cited = "Call handlers followed scripts written for a national service."
    assert after[cited] == before[cited]
    assert (
        after["Ambulance dispatches rose in the first month."]
        == before["Ambulance dispatches rose in the first month."]
    )


def test_an_edited_paragraph_gets_a_new_anchor() -> None:
    before = _anchors(PAPER)
    after = _anchors(PAPER.replace("national service", "national service, not a local one"))
    assert "Call handlers followed scripts written for a national service, not a local one." in after
    assert set(after.values()) != set(before.values())


def test_repeated_paragraphs_are_told_apart_in_reading_order() -> None:
    assert assign_anchors(["Same words.", "Other words.", "same   WORDS.", "Same words."]) == [
        base_anchor("Same words."),
        base_anchor("Other words."),
        base_anchor("Same words.") + "-2",
        base_anchor("Same words.") + "-3",
    ]


def test_anchors_are_not_added_without_being_asked_and_survive_the_sanitiser() -> None:
    assert 'id="p-' not in render(PAPER).html
    html = render("One *emphasised* [link](https://example.org) paragraph.", paragraph_anchors=True).html
    assert html.startswith('<p id="p-')


def test_a_loose_list_item_is_anchored_through_its_paragraphs_and_nested_lists_are_not_repeated() -> None:
    text = "- first point\n\n    more on it\n\n- second point\n    - a detail\n"
    paragraphs = render(text, paragraph_anchors=True).paragraphs
    assert [paragraph.text for paragraph in paragraphs] == ["first point", "more on it", "second point", "a detail"]


def test_resolve_finds_the_same_words_exactly() -> None:
    current = [Paragraph(base_anchor("Alpha beta."), "Alpha beta."), Paragraph(base_anchor("Gamma."), "Gamma.")]
    result = resolve(base_anchor("Gamma."), "Gamma.", current)
    assert result.state == EXACT
    assert result.current == current[1]


def test_resolve_finds_the_same_words_under_another_repeat_number() -> None:
    current = [Paragraph(base_anchor("Gamma."), "Gamma.")]
    assert resolve(base_anchor("Gamma.") + "-2", "Gamma.", current).state == EXACT


def test_resolve_reports_a_reworded_paragraph_as_changed_with_its_new_text() -> None:
    quote = "Call handlers followed scripts written for a national service."
    reworded = "Call handlers followed scripts that were written for a national service."
    current = [
        Paragraph(base_anchor("Unrelated words entirely."), "Unrelated words entirely."),
        Paragraph("p-1", reworded),
    ]
    result = resolve(base_anchor(quote), quote, current)
    assert result.state == CHANGED
    assert result.current is not None
    assert result.current.text == reworded
    assert result.quote == quote


def test_resolve_reports_a_removed_paragraph_as_gone_with_the_quote() -> None:
    quote = "Call handlers followed scripts written for a national service."
    current = [Paragraph("p-00000000", "Something else was said about staffing rotas.")]
    result = resolve(base_anchor(quote), quote, current)
    assert result.state == GONE
    assert result.current is None
    assert result.quote == quote


def test_excerpt_cuts_at_a_word() -> None:
    assert excerpt("short") == "short"
    assert excerpt("one two three four", limit=10) == "one two…"
