"""Properties of the renderer over generated text: always sanitised, and work that grows linearly.

Work is counted, not timed: the number of Python lines executed while rendering (through
`sys.settrace`), which is the same on every machine. A text and the same text at twice and
four times its length must cost about twice and four times as much, never the square.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

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
    sys.settrace(trace)
    try:
        render(text, resolve)
    finally:
        sys.settrace(previous)
    return count


def _of_length(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


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
def test_rendering_work_grows_linearly(unit: str) -> None:
    small, medium, large = (_lines_executed(_of_length(unit, length)) for length in (400, 800, 1600))
    # Linear work adds as much from 800 to 1,600 characters as twice the 400 to 800 step;
    # quadratic work adds four times as much. The constant covers small steps.
    assert large - medium <= 3 * (medium - small) + 20_000, (unit, small, medium, large)
