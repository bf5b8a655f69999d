"""Properties of the renderer over generated text: always sanitised, and work that grows linearly.

Work is counted, not timed, so the count is the same on every machine, in two ways: the
number of Python lines executed while rendering (through `sys.settrace`), and the characters
of the strings Python-Markdown builds while applying inline patterns. The second catches
copying done in C, which costs one line however long the string: each inline match rebuilds
its whole paragraph around a placeholder. A text and the same text at twice and four times
its length must cost about twice and four times as much, never the square.
"""

from __future__ import annotations

import gc
import sys
from html.parser import HTMLParser
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from markdown.treeprocessors import InlineProcessor

from kb.markdown import LinkTarget, render, sanitise

ATOMS = [
    "[",
    "]",
    "![",
    "[[a",
    "[[a|",
    "]]",
    "[a](",
    "(",
    ")",
    '"',
    "'",
    "`",
    "``",
    "*",
    "_",
    "\\",
    "<",
    ">",
    "> ",
    "- ",
    "1. ",
    "|",
    "|-",
    "#",
    "[^",
    "&",
    "a",
    " ",
    "\n",
    "\n\n",
    "    ",
    "http://x",
    "<script>",
    "javascript:",
    " onclick=",
]

markdownish = st.lists(st.sampled_from(ATOMS) | st.text(max_size=3), max_size=60).map("".join)
units = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=4).map("".join)


def resolve(slug: str) -> LinkTarget | None:
    return LinkTarget(f"/lessons/{slug}", f"Title of {slug}", shown=slug != "hidden") if slug != "nope" else None


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_the_output_is_always_sanitised(text: str) -> None:
    html = render(text, resolve).html
    assert sanitise(html) == html
    parser = _Attributes()
    parser.feed(html)
    parser.close()
    for tag, attributes in parser.tags:
        assert tag not in {"script", "style", "iframe", "object", "embed", "form", "input"}
        for name, value in attributes:
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src"} and value:
                assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:")), value


def _lines_executed(text: str) -> int:
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        return local

    render(text, resolve)  # Untraced first: the first render compiles patterns once per process.
    previous = sys.gettrace()
    gc.disable()  # A collection would run other objects' clean-up code inside the count.
    sys.settrace(trace)
    try:
        render(text, resolve)
    finally:
        sys.settrace(previous)
        gc.enable()
    return count


_DEFINITIONS = "\n\n[^1]: A note.\n\n[a]: https://example.org\n"
"""Definitions after the text, so footnote references and reference links in it match."""


def _of_length(unit: str, length: int) -> str:
    """About `length` characters of whole `unit`s, an even number of them.

    Cutting a unit part-way, or ending on an odd one, can leave a fence or bracket open at the
    end of one text and closed at the end of the next, which changes the work by a constant
    unrelated to the length (seen with "````[``": 1,600 characters cost more than 3,200).
    """
    pairs = max(length // (2 * len(unit)), 1)
    return unit * (2 * pairs)


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(units)
@example("[")  # The defect: each `[` was scanned to the end of its paragraph.
@example("[[a")
@example("[a](")
@example("``a`")
@example("- ")
@example("[^1]")  # Each reference to one footnote searched the names of all those before it.
@example("[^1]\n\n")
@example("````[``")  # Cut part-way, its texts cost more at 1,600 characters than at 3,200.
def test_rendering_work_grows_linearly(unit: str) -> None:
    small, medium, large = (_lines_executed(_of_length(unit, length) + _DEFINITIONS) for length in (400, 800, 1600))
    # Linear work adds as much from 800 to 1,600 characters as twice the 400 to 800 step;
    # quadratic work adds four times as much. The constant covers small steps (a text cut at
    # another point of its unit may even cost less than a shorter one).
    assert large - medium <= 3 * max(medium - small, 0) + 20_000, (unit, small, medium, large)


_apply_pattern = InlineProcessor._InlineProcessor__applyPattern  # type: ignore[attr-defined]


def _characters_copied(text: str) -> int:
    """The characters of every string Python-Markdown's inline processing builds while rendering `text`.

    `__applyPattern` returns its input unchanged when nothing matched, and otherwise a new
    string: the whole text again with the match replaced by a placeholder.
    """
    copied = 0

    def counting(self: InlineProcessor, pattern: Any, data: str, *rest: Any) -> tuple[str, bool, int]:
        nonlocal copied
        result = _apply_pattern(self, pattern, data, *rest)
        if result[0] is not data:
            copied += len(result[0])
        return result

    InlineProcessor._InlineProcessor__applyPattern = counting  # type: ignore[attr-defined]
    try:
        render(text, resolve)
    finally:
        InlineProcessor._InlineProcessor__applyPattern = _apply_pattern  # type: ignore[attr-defined]
    return copied


def _copying_grows_linearly(unit: str, sizes: tuple[int, int, int]) -> None:
    # Whole units, a multiple of 8 of them, so openers and closers pair up alike at every size.
    counts = (8 * -(-size // (8 * len(unit))) for size in sizes)
    small, medium, large = (_characters_copied(unit * count + _DEFINITIONS) for count in counts)
    # As for lines: the second doubling may add at most about twice what the first added.
    assert large - medium <= 3 * max(medium - small, 0) + 50 * sizes[2], (unit, small, medium, large)


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(units)
@example("&amp;")  # The defect: each match copied the whole paragraph.
@example("[a]()")
@example("`a`")
@example("[[a]]")
@example("a  \n")
@example("`*")  # Code spans beyond the limit left their marks to emphasis, which the guard had not counted.
def test_inline_copying_grows_linearly(unit: str) -> None:
    # Long enough that every unit of a few atoms makes more matches than a paragraph may hold.
    _copying_grows_linearly(unit, (10_000, 20_000, 40_000))


@pytest.mark.parametrize("unit", ["&amp;", "x&y;", "[a]()", "`a`", "<http://a.b>", "[[a]]", "[^1]", "\\`", "*a*"])
def test_inline_copying_grows_linearly_up_to_a_document(unit: str) -> None:
    _copying_grows_linearly(unit, (25_000, 50_000, 100_000))
