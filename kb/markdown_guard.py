"""Keeping Markdown rendering linear: pathological runs are neutralised before Python-Markdown parses them.

Python-Markdown finds a link, image or reference by scanning forward from each `[` for its
closing `]` (and from each `](` for its closing `)`), and a code span by scanning forward from
each run of backticks for a run of the same length; a scan that finds nothing reaches the end
of the paragraph and is thrown away, so text with many unclosed openers costs the square of
its length. List and quote markers nest by recursion, so a line of hundreds of `- ` overflows
the stack.

This module works out, in one linear pass over each paragraph's text, which openers those
scans would fail on (or would scan too far or too deep for), and swaps just those characters
for private placeholders that no Markdown rule reads; once the tree is built the placeholders
turn back into the original characters. A scan that would have failed anyway changes nothing
a reader sees; only links nested more than `MAX_DEPTH` deep, or scans beyond a budget
proportional to the text, read as plain text instead.

Each emphasis match copies the whole paragraph, so emphasis is bounded here too, by
`MAX_EMPHASIS`; the other inline matches are bounded while parsing (`kb.markdown_limits`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from xml.etree import ElementTree

from markdown import Markdown
from markdown.inlinepatterns import BACKTICK_RE, LinkInlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

MAX_DEPTH = 8
"""Deepest nesting of `[...]` pairs, and of link destinations' `(...)`, that is still read as Markdown."""
MAX_CONTAINERS = 16
"""Most list or quote markers opening one line that still nest; the rest read as text."""
MAX_CONTAINER_COLUMN = 128
"""A list or quote marker indented further than this reads as text (nesting by indentation)."""

MAX_EMPHASIS = 400
"""Most `*` and `_` one paragraph may hold as emphasis; the rest read as text."""
MAX_ESCAPES = 400
"""Most backslash escapes one paragraph may hold before they are read more cheaply (the same text results)."""
MAX_INLINE = 400
"""Most inline matches (links, code spans, entities, ...) one paragraph may make (`kb.markdown_limits` counts them)."""
MAX_TABLE_COLUMNS = 100
"""Most columns a table may have; a wider one reads as text."""

_NEUTRAL = "[]()`>-*+._\\{}#!"
_BACKTICK = re.compile(BACKTICK_RE, re.DOTALL | re.UNICODE)
_BACKTICK_RUN = re.compile(r"`+")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPABLE = frozenset("\\`*_{}[]()>#+-.!")
_BRACKET_OR_PAREN = re.compile(r"[\[\]()]")
_QUOTE = re.compile(r"[\"']")
_MARKER = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))", re.MULTILINE)
_LINE_START = re.compile(r"^(?=[ \t]*(?:>|[-*+][ \t]|\d{1,9}[.)][ \t]))", re.MULTILINE)
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-[-: \t|]*$", re.MULTILINE)
_LINK_STOP = re.compile(r"[\]\n]")
_LINK_START = re.compile(r"\[\[[a-z0-9][a-z0-9-]*")
"""The start of `kb.markdown.INTERNAL_LINK`, up to the end of its slug."""
_EMPHASIS = re.compile(r"[*_]")


@dataclass(frozen=True)
class Placeholders:
    """Private characters standing in for neutralised ones, chosen so that none occurs in the text."""

    forward: dict[str, str]
    back: dict[int, str]

    @classmethod
    def for_text(cls, text: str) -> Placeholders:
        """Placeholders absent from `text` (plane 15 holds far more characters than any text allowed)."""
        used = set(text)
        chosen: list[str] = []
        code = 0xF0000
        while len(chosen) < len(_NEUTRAL):
            if chr(code) not in used:
                chosen.append(chr(code))
            code += 1
        forward = dict(zip(_NEUTRAL, chosen, strict=True))
        return cls(forward, {ord(placeholder): char for char, placeholder in forward.items()})

    def restore(self, text: str) -> str:
        """`text` with every placeholder turned back into the character it stands for."""
        return text.translate(self.back)


def neutralise_containers(text: str, placeholders: Placeholders) -> str:
    """Turn list and quote markers nested beyond the limits, and the rule under a table too wide, into placeholders."""
    chars: list[str] | None = None
    for line in _LINE_START.finditer(text):
        position, count = line.start(), 0
        while (marker := _MARKER.match(text, position)) is not None:
            count += 1
            sign = marker.end() - 1
            column = len(text[line.start() : sign].expandtabs(4))
            if count > MAX_CONTAINERS or column > MAX_CONTAINER_COLUMN:
                chars = chars if chars is not None else list(text)
                chars[sign] = placeholders.forward[text[sign]] if text[sign] in _NEUTRAL else chars[sign]
                break
            position = marker.end()
    for rule in _TABLE_RULE.finditer(text):
        if rule.group().count("|") > MAX_TABLE_COLUMNS:
            chars = chars if chars is not None else list(text)
            dash = text.index("-", rule.start())
            chars[dash] = placeholders.forward["-"]
    return "".join(chars) if chars is not None else text


class _Inline:
    """The neutralising pass over one paragraph's inline text (see the module)."""

    def __init__(self, text: str, placeholders: Placeholders):
        self.text = text
        self.forward = placeholders.forward
        self.chars = list(text)
        self.changed = False
        self.masked = list(text)
        self.escaped: set[int] = set()
        """Where characters kept escaped (read by Python-Markdown's escape rule) stand."""
        self.budget = 2 * len(text) + 2_000

    def neutralise(self, position: int) -> None:
        self.chars[position] = self.forward[self.text[position]]
        self.changed = True

    def run(self) -> str:
        self.code_spans()
        masked = "".join(self.masked)
        # Escaped characters are read before links, so their brackets never count. Beyond
        # `MAX_ESCAPES`, an escape becomes one placeholder here rather than one of Python-Markdown's,
        # which would copy the paragraph once per escape (an escaped backtick may close a code span: kept).
        escapes = 0
        for escape in _ESCAPE.finditer(masked):
            char = escape.group(1)
            if char in _ESCAPABLE:
                self.masked[escape.start(1)] = "x"
                escapes += 1
                if escapes > MAX_ESCAPES and char != "`" and not masked.startswith("`", escape.end()):
                    self.chars[escape.start()] = ""
                    self.neutralise(escape.start(1))
                else:
                    self.escaped.add(escape.start(1))
        masked = "".join(self.masked)
        self.internal_links(masked)
        masked = "".join(self.masked)
        self.brackets(masked)
        self.emphasis()
        return "".join(self.chars) if self.changed else self.text

    def code_spans(self) -> None:
        """Find the code spans exactly as Python-Markdown's backtick rule does, neutralising costly openers."""
        text = self.text
        runs = [(run.start(), run.end()) for run in _BACKTICK_RUN.finditer(text)]
        if not runs:
            return
        starts = [start for start, _ in runs]
        by_length: dict[int, list[int]] = {}
        for index, (start, end) in enumerate(runs):
            by_length.setdefault(end - start, []).append(index)
        # The longest run from each run on, and the first run of that length.
        longest = [(0, -1)] * (len(runs) + 1)
        for index in range(len(runs) - 1, -1, -1):
            length = runs[index][1] - runs[index][0]
            later = longest[index + 1]
            longest[index] = (length, index) if length >= later[0] else later
        position = 0
        while (match := _BACKTICK.search(text, position)) is not None:
            begin = match.end() if match.group(1) else match.start()
            run = bisect.bisect_right(starts, begin) - 1
            ticks = runs[run][1] - begin
            same = by_length.get(ticks, [])
            after = bisect.bisect_right(same, run)
            if after < len(same):
                end = runs[same[after]][1]
            else:
                cost = len(text) - begin
                if cost > self.budget:
                    for tick in range(begin, begin + ticks):
                        self.neutralise(tick)
                    position = begin + ticks
                    continue
                self.budget -= cost
                length, first = longest[run + 1]
                if not 0 < length < ticks:
                    position = begin + 2 * ticks
                    continue
                end = runs[first][1]
            self.masked[begin:end] = "x" * (end - begin)
            position = end

    def internal_links(self, masked: str) -> None:
        """Mask `[[slug]]` and `[[slug|words]]` links, which are read before ordinary links whatever brackets they hold.

        The same matches as `kb.markdown.INTERNAL_LINK`, found without rescanning the words of each candidate.
        """
        stops = [stop.start() for stop in _LINK_STOP.finditer(masked)]
        position = 0
        while (start := _LINK_START.search(masked, position)) is not None:
            end = start.end()
            if masked.startswith("]]", end):
                end += 2
            elif masked.startswith("|", end):
                index = bisect.bisect_left(stops, end + 1)
                stop = stops[index] if index < len(stops) else -1
                if stop > end + 1 and masked.startswith("]]", stop):
                    end = stop + 2
                else:
                    position = start.start() + 1
                    continue
            else:
                position = start.start() + 1
                continue
            self.masked[start.start() : end] = "x" * (end - start.start())
            position = end

    def emphasis(self) -> None:
        """Beyond `MAX_EMPHASIS` in one paragraph, `*` and `_` read as text (each match copies the paragraph).

        Marks inside code spans and `[[slug|words]]` links count too: a span or link refused by
        `limit_inline_matches` leaves its marks to the emphasis rule. Escaped marks do not count
        (there are at most `MAX_ESCAPES` of them); a neutralised mark reads the same in code.
        """
        count = 0
        for mark in _EMPHASIS.finditer(self.text):
            position = mark.start()
            if position in self.escaped or self.chars[position] != mark.group():
                continue
            count += 1
            if count > MAX_EMPHASIS:
                self.neutralise(position)

    def brackets(self, masked: str) -> None:
        """Neutralise `[` that no `]` closes, pairs nested too deep, and link destinations too costly to scan."""
        opened: list[int] = []
        parens: list[int] = []
        pairs: dict[int, int] = {}
        paren_pairs: dict[int, int] = {}
        deep_parens: set[int] = set()
        for mark in _BRACKET_OR_PAREN.finditer(masked):
            position, char = mark.start(), mark.group()
            if char == "[":
                opened.append(position)
            elif char == "]":
                if opened:
                    start = opened.pop()
                    if len(opened) >= MAX_DEPTH:
                        self.neutralise(start)
                        self.neutralise(position)
                    else:
                        pairs[position] = start
            elif char == "(":
                parens.append(position)
                if len(parens) > MAX_DEPTH:
                    deep_parens.add(position)
            elif parens:
                paren_pairs[parens.pop()] = position
        for start in opened:
            self.neutralise(start)
        quotes = [quote.start() for quote in _QUOTE.finditer(masked)]
        for close in pairs:
            destination = close + 1
            if destination < len(masked) and masked[destination] == "(":
                self.destination(masked, destination, paren_pairs.get(destination), quotes, deep_parens)

    def destination(self, masked: str, start: int, close: int | None, quotes: list[int], deep_parens: set[int]) -> None:
        """Keep a link destination `(...)` whose scan is short, else neutralise its `(` (and its `)`)."""
        angle = LinkInlineProcessor.RE_LINK.match(masked, start)
        if angle is not None and angle.group(1):
            return
        if start in deep_parens:
            self.neutralise(start)
            if close is not None:
                self.neutralise(close)
            return
        next_quote = bisect.bisect_right(quotes, start)
        quoted = next_quote < len(quotes) and (close is None or quotes[next_quote] < close)
        if not quoted:
            if close is None:
                self.neutralise(start)  # Python-Markdown would scan to the end and give up.
            return
        # A quote turns on title rules that scan past `)`: measure that scan, within the budget.
        end = min(len(masked), start + self.budget)
        scanned = _destination_scan(masked, start, end)
        self.budget -= (scanned if scanned is not None else end) - start
        if scanned is None and end < len(masked):
            self.neutralise(start)


def _destination_scan(data: str, start: int, end: int) -> int | None:
    """Where Python-Markdown's link-destination scan from the `(` at `start` stops, or None if not before `end`.

    The same loop as `markdown.inlinepatterns.LinkInlineProcessor.getLink`, cut at `end`.
    """
    index = start + 1
    while index < end and data[index].isspace():
        index += 1
    bracket_count, backtrack_count = 1, 1
    quote: str | None = None
    alt_quote: str | None = None
    exit_quote = exit_alt_quote = -1
    ignore_matches = False
    last = ""
    for position in range(index, end):
        char = data[position]
        if char == "(":
            if not ignore_matches:
                bracket_count += 1
            elif backtrack_count > 0:
                backtrack_count -= 1
        elif char == ")":
            if (exit_quote != -1 and quote == last) or (exit_alt_quote != -1 and alt_quote == last):
                bracket_count = 0
            elif not ignore_matches:
                bracket_count -= 1
            elif backtrack_count > 0:
                backtrack_count -= 1
        elif char in "'\"":
            if not quote:
                ignore_matches, backtrack_count, bracket_count, quote = True, bracket_count, 1, char
            elif char != quote and not alt_quote:
                alt_quote = char
            elif char == quote:
                exit_quote = position + 1
            elif alt_quote and char == alt_quote:
                exit_alt_quote = position + 1
        if bracket_count == 0:
            return position + 1
        if char != " ":
            last = char
    return None


def neutralise_inline(text: str, placeholders: Placeholders) -> str:
    """One paragraph's inline text with the openers Python-Markdown would scan at length made placeholders."""
    if not any(char in text for char in "[`\\*_"):
        return text
    return _Inline(text, placeholders).run()


class NeutraliseInline(Treeprocessor):
    """Before inline patterns run, neutralise each element's text (see the module)."""

    def __init__(self, md: Markdown, placeholders: Placeholders):
        super().__init__(md)
        self.placeholders = placeholders

    def run(self, root: ElementTree.Element) -> None:
        """Neutralise the text and tail of every element the inline patterns will read."""
        for element in root.iter():
            if element.text and not isinstance(element.text, AtomicString):
                element.text = neutralise_inline(element.text, self.placeholders)
            if element.tail and not isinstance(element.tail, AtomicString):
                element.tail = neutralise_inline(element.tail, self.placeholders)


class RestorePlaceholders(Treeprocessor):
    """After inline patterns ran, turn placeholders back into their characters, before headings and anchors are read."""

    def __init__(self, md: Markdown, placeholders: Placeholders):
        super().__init__(md)
        self.placeholders = placeholders

    def run(self, root: ElementTree.Element) -> None:
        """Restore every text, tail and attribute of the tree."""
        restore = self.placeholders.restore
        for element in root.iter():
            if element.text:
                element.text = type(element.text)(restore(element.text))
            if element.tail:
                element.tail = type(element.tail)(restore(element.tail))
            for name, value in element.attrib.items():
                element.set(name, restore(value))
