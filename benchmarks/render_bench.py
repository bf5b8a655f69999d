"""Render pathological Markdown at growing lengths and print the times and their growth.

Each input is built to the given length from one repeated pattern (runs of `[`, `![`, `[[a`,
`[a](`, `*`, `_`, backticks, `<`, nested `>` and list markers, a table of 2,000 columns, a long
line without spaces, and runs of constructs that do match: entities, links, code spans,
autolinks, `[[slug]]` links, footnote references, line breaks) and rendered with
`kb.markdown.render`; the table gives the median of a few runs in milliseconds and the ratio
per doubling of the length (2 is linear, 4 quadratic).
The longest text a field takes is printed below: the goal is at most 50 ms there.

    .venv/bin/python benchmarks/render_bench.py [--sizes 10000,20000,100000] [--runs 3] [--unfixed]

`--unfixed` renders without kb's neutralising of pathological runs and limit on inline
matches (Python-Markdown as it is), for the before figures; use small sizes with it, since it is quadratic.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import markdown as kb_markdown
from kb import markdown_guard


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


def _table(size: int) -> str:
    columns = 2_000
    header = "|".join("h" for _ in range(columns))
    rule = "|".join("-" for _ in range(columns))
    row = "|".join("c" for _ in range(columns))
    lines = [header, rule]
    while sum(len(line) + 1 for line in lines) + len(row) < size:
        lines.append(row)
    return "\n".join(lines)


def _nested_lines(unit: str) -> Callable[[int], str]:
    def build(size: int) -> str:
        lines: list[str] = []
        depth, total = 1, 0
        while total < size:
            line = unit * depth + "a"
            lines.append(line)
            total += len(line) + 1
            depth = depth % 50 + 1
        return "\n".join(lines)[:size]

    return build


_FOOTNOTE = "\n\n[^1]: A note."
"""Defines the footnote the `[^1]` run refers to, so each reference matches."""

INPUTS: dict[str, Callable[[int], str]] = {
    "[ run": _repeat("["),
    "![ run": _repeat("!["),
    "[[a run": _repeat("[[a"),
    "[[a| run": _repeat("[[a|"),
    "[a]( run": _repeat("[a]("),
    '[a](b "x) run': _repeat('[a](b "x)'),
    "[^ run": _repeat("[^"),
    "[[[…]]] nested": lambda size: _repeat("[")(size // 2) + _repeat("]")(size - size // 2),
    "* run": _repeat("*"),
    "*a run": _repeat("*a"),
    "_ run": _repeat("_"),
    "` run": _repeat("`"),
    "`a`` mixed": _repeat("`a``"),
    "< run": _repeat("<"),
    "<http:// run": _repeat("<http://"),
    "> one line": _repeat("> "),
    "> nested lines": _nested_lines("> "),
    "- one line": _repeat("- "),
    "1. one line": _repeat("1. "),
    "- nested lines": _nested_lines("  "),
    "table 2,000 columns": _table,
    "long line, no spaces": _repeat("abcdefghij"),
    "\\ run": _repeat("\\"),
    "&amp; run": _repeat("&amp;"),
    "x&y; run": _repeat("x&y;"),
    "[a]() run": _repeat("[a]()"),
    "`a` run": _repeat("`a`"),
    "<http://a.b> run": _repeat("<http://a.b>"),
    "[[a]] run": _repeat("[[a]]"),
    "[^1] run": lambda size: _repeat("[^1]")(size - len(_FOOTNOTE)) + _FOOTNOTE,
    "line break run": _repeat("a  \n"),
    "\\` run": _repeat("\\`"),
    "ordinary prose": _repeat("Some *ordinary* text with a [link](https://example.org) and `code`.\n\n"),
}

FIELD_LIMITS = {
    "comment": 10_000,
    "consultation answer": 10_000,
    "outcome change (you said, we did)": 10_000,
    "finding text, recommendations": 20_000,
    "consultation introduction": 20_000,
    "outcome (we asked, you said)": 20_000,
    "lesson section": 20_000,
    "entry document": 100_000,
}


def _unfixed() -> None:
    """Render as Python-Markdown does on its own: no neutralising, no limit on inline matches."""
    kb_markdown.neutralise_containers = lambda text, placeholders: text  # type: ignore[assignment]
    markdown_guard.neutralise_inline = lambda text, placeholders: text  # type: ignore[assignment]
    kb_markdown.limit_inline_matches = lambda md: None  # type: ignore[assignment]


def _median_ms(text: str, runs: int) -> float:
    """The median time of rendering `text`, in milliseconds; NaN when rendering fails (the unfixed path's stack)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        try:
            kb_markdown.render(text)
        except RecursionError:
            return math.nan
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,20000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--unfixed", action="store_true")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]
    if arguments.unfixed:
        _unfixed()
    heading = " | ".join(f"{size:,} chars" for size in sizes)
    print(f"| input | {heading} | growth per doubling |")
    print("|---" * (len(sizes) + 2) + "|")
    for name, build in INPUTS.items():
        times = [_median_ms(build(size), arguments.runs) for size in sizes]
        growth = math.exp(math.log(times[-1] / times[0]) / math.log2(sizes[-1] / sizes[0])) if times[0] > 0 else 0
        cells = " | ".join("RecursionError" if math.isnan(ms) else f"{ms:,.1f} ms" for ms in times)
        print(f"| {name} | {cells} | {growth:.2f} |", flush=True)
    print()
    print("| field | longest text |")
    print("|---|---|")
    for field_name, limit in FIELD_LIMITS.items():
        print(f"| {field_name} | {limit:,} |")


if __name__ == "__main__":
    main()
