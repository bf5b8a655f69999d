"""Handles, finding @mentions in Markdown, resolving them, and marking them in HTML."""

from __future__ import annotations

import re

import pytest

from kb.notifications.mentions import find_handles, handle_for, mark_mentions, resolve_handles


@pytest.mark.parametrize(
    ("name", "handle"),
    [
        ("Jane Smith", "jane-smith"),
        ("  jane   SMITH! ", "jane-smith"),
        ("Zoë O'Brien-Keane", "zoe-o-brien-keane"),
        ("Dr. A. N. Other", "dr-a-n-other"),
        ("李", ""),
    ],
)
def test_handle_is_lowercase_with_runs_of_other_characters_as_one_hyphen(name: str, handle: str) -> None:
    assert handle_for(name) == handle


def test_handles_are_found_in_prose_in_order_without_repeats() -> None:
    text = "Thanks @Jane-Smith and @bob, (@carol) — see @jane-smith again.\n\n- @dave: yes"
    assert find_handles(text) == ["jane-smith", "bob", "carol", "dave"]


def test_email_addresses_are_not_mentions() -> None:
    assert find_handles("Write to jane@example.org or @example.org-ish, not me@bob") == []


def test_code_spans_and_code_blocks_are_skipped() -> None:
    text = (
        "Use `@decorator` here and ``@also `odd` code``.\n\n"
        "```python\n@app.route('/')\n@jane\n```\n\n"
        "~~~\n@tilde\n~~~\n\n"
        "    @indented code\n\n"
        "But @real is real."
    )
    assert find_handles(text) == ["real"]


def test_a_handle_at_the_end_of_a_sentence_keeps_its_full_stop_out() -> None:
    assert find_handles("Over to you, @jane-smith.") == ["jane-smith"]


def test_ambiguous_handles_name_nobody_and_unknown_ones_are_dropped() -> None:
    people = [(1, "Jane Smith"), (2, "jane smith"), (3, "Bob Jones")]
    resolution = resolve_handles(["jane-smith", "bob-jones", "nobody"], people)
    assert resolution.people == {"bob-jones": 3}
    assert resolution.ambiguous == frozenset({"jane-smith"})


def test_marking_wraps_known_handles_outside_code_and_links() -> None:
    html = (
        "<p>Hi @bob-jones &amp; @jane-smith, <code>@bob-jones</code> "
        '<a href="/x">@bob-jones</a> mail bob@bob-jones.org</p>'
    )
    marked = mark_mentions(html, {"bob-jones": "Bob <Jones>"})
    assert marked == (
        '<p>Hi <span class="kb-mention" title="Bob &lt;Jones&gt;">@bob-jones</span> &amp; @jane-smith, '
        '<code>@bob-jones</code> <a href="/x">@bob-jones</a> mail bob@bob-jones.org</p>'
    )


def test_marking_nothing_leaves_html_unchanged() -> None:
    html = "<p>@bob-jones</p>"
    assert mark_mentions(html, {}) is html


def test_the_handles_the_docs_give_as_examples_are_the_real_ones() -> None:
    from kb.config import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "discussion.md").read_text(encoding="utf-8")
    examples = re.findall(r"([A-Z][\w' ]+?)\s+is\s+`@([a-z0-9-]+)`", text)
    assert len(examples) >= 2
    for name, handle in examples:
        assert handle_for(name) == handle, name
