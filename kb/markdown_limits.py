"""Keeping Markdown rendering linear while Python-Markdown parses: inline matches per paragraph, footnote names.

Every inline construct that does match (a link, code span, entity, line break, footnote
reference, `[[slug]]` link, escape, emphasis) makes Python-Markdown rebuild the whole
paragraph's string around a placeholder for it, so a paragraph with a match every few
characters costs the square of its length. `limit_inline_matches` lets one paragraph make
at most `MAX_INLINE` such matches and refuses the rest, which then read as the literal text
they are; emphasis is bounded before parsing instead, by `kb.markdown_guard.MAX_EMPHASIS`.

The footnotes extension names the k-th reference to one footnote by trying the k-1 names
before it, so a text citing one footnote thousands of times costs the square of that count;
`LinearFootnotes` starts where the last search for that footnote stopped, with the same names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.etree import ElementTree

from markdown import Markdown
from markdown.extensions.footnotes import FootnoteExtension
from markdown.inlinepatterns import DelimiterProcessor, InlineProcessor

from kb.markdown_guard import MAX_INLINE

_HandleMatch = Callable[[re.Match[str], str], tuple[ElementTree.Element | str | None, int | None, int | None]]


class _InlineBudget:
    """The inline matches the paragraph being read may still make."""

    def __init__(self) -> None:
        self.left = MAX_INLINE

    def limit(self, handle_match: _HandleMatch) -> _HandleMatch:
        """`handle_match`, refusing every match once the budget is spent and counting the matches it makes."""

        def limited(match: re.Match[str], data: str) -> tuple[ElementTree.Element | str | None, int | None, int | None]:
            if self.left <= 0:
                return None, None, None
            node, start, end = handle_match(match, data)
            if node is not None and start is not None and end is not None:
                self.left -= 1  # Python-Markdown now copies `data` around a placeholder for the node.
            return node, start, end

        return limited


class _StartOfText(InlineProcessor):
    """Never matches; tried first on every text Python-Markdown reads, it renews the budget for that text."""

    def __init__(self, budget: _InlineBudget):
        super().__init__(r"\A")
        self.budget = budget

    def handleMatch(  # type: ignore[override]  # noqa: N802
        self, m: re.Match[str], data: str
    ) -> tuple[None, None, None]:
        self.budget.left = MAX_INLINE
        return None, None, None


def limit_inline_matches(md: Markdown) -> None:
    """Let each paragraph (each text or tail the inline patterns read) make at most `MAX_INLINE` inline matches.

    Call it once every inline pattern is registered. The delimiter (emphasis) processor is left
    alone: its matches are bounded by `MAX_EMPHASIS` before parsing, and it hands out the
    results of one scan over several calls, so refusing one call would put it out of step.
    """
    budget = _InlineBudget()
    for pattern in md.inlinePatterns:
        if isinstance(pattern, InlineProcessor) and not isinstance(pattern, DelimiterProcessor):
            pattern.handleMatch = budget.limit(pattern.handleMatch)  # type: ignore[method-assign, assignment]
    # Above every other pattern, so it is the one tried with each new text (nested texts start further on).
    md.inlinePatterns.register(_StartOfText(budget), "kb_start_of_text", 1_000)


class LinearFootnotes(FootnoteExtension):
    """The footnotes extension, naming repeated references to one footnote without searching all earlier names."""

    def reset(self) -> None:
        """Forget every reference, with the base class."""
        super().reset()
        self.last_ref: dict[str, str] = {}

    def unique_ref(self, reference: str, found: bool = False) -> str:
        """The name `FootnoteExtension.unique_ref` gives: the first free one in the chain of names from `reference`.

        Names only ever become used, so every name in that chain up to the one given last time
        for `reference` is still taken, and the search can start there.
        """
        if not found:
            return reference
        last = self.last_ref.get(reference)
        if last is None:
            unique = super().unique_ref(reference, found)
        else:
            # The base class counts the reference under the name it is given: count it under `reference` instead.
            unique = super().unique_ref(last, found)
            self.found_refs[last] -= 1
            if not self.found_refs[last]:
                del self.found_refs[last]
            self.found_refs[reference] += 1
        self.last_ref[reference] = unique
        return unique
