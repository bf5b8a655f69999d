"""Note markers in a finding's rendered text: which become links, which stay as typed, and the work it takes."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from kb.markdown import render
from kb.panels.notes import REMOVED, link_notes, note_id, ref_id, referred_notes, renumber_markers


def linked(text: str, known: int = 3, number: int = 7) -> str:
    return link_notes(render(text, anchor_prefix="f7-text-").html, number, known)


def ref(note: int, number: int = 7, first: bool = True) -> str:
    anchor = f' id="finding-{number}-ref-{note}"' if first else ""
    return f'<sup class="kb-note-ref"><a href="#finding-{number}-note-{note}"{anchor}>{note}</a></sup>'


def test_a_known_marker_becomes_a_superscript_link_to_its_note():
    assert linked("Staff were not told.[^2]") == f"<p>Staff were not told.{ref(2)}</p>"


def test_ids_follow_the_agreed_pattern():
    assert note_id(3, 1) == "finding-3-note-1"
    assert ref_id(3, 1) == "finding-3-ref-1"


def test_an_unknown_marker_stays_plain_text():
    assert linked("Said twice.[^4] Not[^0] cited[^x].", known=3) == "<p>Said twice.[^4] Not[^0] cited[^x].</p>"


def test_no_citations_leaves_the_text_alone():
    html = render("A claim.[^1]").html
    assert link_notes(html, 1, 0) == html


def test_markers_in_code_spans_and_blocks_stay_as_typed():
    html = linked("Write `[^1]` like this:\n\n```\nsee [^2]\n```\n\n    indented [^3]\n")
    assert "<code>[^1]</code>" in html
    assert "see [^2]" in html
    assert "indented [^3]" in html
    assert "kb-note-ref" not in html


def test_markers_inside_a_link_stay_as_typed_but_after_it_are_linked():
    html = linked("[a report [^1]](https://example.org) and more.[^1]")
    assert '<a href="https://example.org" rel="noopener noreferrer">a report [^1]</a> and more.' + ref(1) in html


def test_markers_in_headings_lists_and_emphasis_are_linked():
    html = linked("## Heading[^1]\n\n- item *one*[^2]\n- **two [^3]**\n")
    assert all(ref(note) in html for note in (1, 2, 3))


def test_only_the_first_reference_to_a_note_carries_the_id_across_both_texts():
    seen: set[int] = set()
    body = link_notes(render("One[^1] two[^1]").html, 7, 2, seen)
    recommendations = link_notes(render("Three[^1] four[^2]").html, 7, 2, seen)
    assert body == f"<p>One{ref(1)} two{ref(1, first=False)}</p>"
    assert recommendations == f"<p>Three{ref(1, first=False)} four{ref(2)}</p>"
    assert seen == {1, 2}


def test_markup_typed_around_a_marker_stays_escaped():
    html = linked('<b onclick="x()">[^1]</b> "quoted"[^2] & <script>[^3]</script>')
    assert "<b" not in html
    assert "<script" not in html
    assert "&lt;b onclick=" in html
    assert "&lt;script&gt;" in html
    assert all(ref(note) in html for note in (1, 2, 3))


def test_attributes_are_never_changed():
    html = '<p><a href="https://example.org/[^1]" title="[^1] &quot;x&gt;">t</a> <img src="/[^2]" alt="[^2]"></p>'
    assert link_notes(html, 7, 3) == html


def test_a_markdown_footnote_with_its_own_definition_is_left_to_markdown():
    html = linked("Claim[^1]\n\n[^1]: The writer's own footnote.")
    assert "kb-note-ref" not in html
    assert "footnote-ref" in html


def test_referred_notes_reads_back_the_notes_a_text_refers_to():
    seen: set[int] = set()
    html = link_notes(render("A[^2] b[^3] c[^2] d[^9]").html, 7, 3, seen)
    assert referred_notes([html, ""], 7) == {2, 3}
    assert referred_notes([html], 8) == set()


def _lines_run(function: Any, *args: Any) -> int:
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        function(*args)
    finally:
        sys.settrace(None)
    return count


def test_work_grows_linearly_with_the_number_of_markers():
    def html(markers: int) -> str:
        return "<p>" + "".join(f"claim <em>x</em> [^{i % 50 + 1}] `y` " for i in range(markers)) + "</p>"

    small, large = html(500), html(2000)
    assert link_notes(large, 1, 50).count("kb-note-ref") == 2000
    small_work, large_work = _lines_run(link_notes, small, 1, 50), _lines_run(link_notes, large, 1, 50)
    assert large_work < 5 * small_work


def renumbered(text: str, new_numbers: dict[int, int | None]) -> str:
    return renumber_markers(text, new_numbers, lambda source: render(source).html)


def test_renumbering_rewrites_the_markers_that_are_linked():
    after_removing_the_first = {1: None, 2: 1, 3: 2}
    assert renumbered("A.[^1] B.[^2] C.[^3] D.[^4]", after_removing_the_first) == f"A.{REMOVED} B.[^1] C.[^2] D.[^4]"
    assert renumbered("A.[^1] B.[^2] again[^1]", {1: 2, 2: 1}) == "A.[^2] B.[^1] again[^2]"


def test_renumbering_keeps_markers_in_code_links_and_footnotes_as_typed():
    kept = "`[^2]` and\n\n```\n[^2]\n```\n\n    [^2] indented\n\n[see [^2]](https://example.org) x[^1]"
    footnote = "\n\n[^1]: A footnote."
    text, expected = f"{kept} y[^2]{footnote}", f"{kept} y[^1]{footnote}"
    assert renumbered(text, {1: None, 2: 1}) == expected


def test_renumbering_leaves_a_text_without_those_markers_unchanged():
    assert renumbered("No markers here, only [^9].", {1: None, 2: 1}) == "No markers here, only [^9]."
    assert renumbered("", {1: 2, 2: 1}) == ""


def test_a_definition_shown_as_code_is_no_footnote_and_the_marker_is_renumbered():
    text = "Claim [^2] here.\n\n```\n[^2]: not a definition\n```\n\n~~~~\n[^2]: nor this\n~~~~"
    assert renumbered(text, {1: None, 2: 1}) == text.replace("Claim [^2]", "Claim [^1]", 1)
