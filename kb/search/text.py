"""Plain text from Markdown, and normalised keys for facet values: pure functions, no app."""

from __future__ import annotations

import re
from collections.abc import Callable

_FENCE = re.compile(r"^(```|~~~).*$", re.MULTILINE)
_WIKI_LINK = re.compile(r"\[\[([^\]|]+)(?:\|([^\]]+))?\]\]")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REFERENCE = re.compile(r"\[\^[^\]]+\]:?")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_LINE_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+|\|)", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|\*|~~|`)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\3(?!\w)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")

LinkWords = Callable[[str, "str | None"], str]
"""What a `[[slug]]` or `[[slug|words]]` link reads as, given its slug and its words (or None)."""


def unresolved_link(slug: str, words: str | None) -> str:
    """A link read without knowing its target, as the page shows one it cannot resolve: its words, else its slug."""
    return (words or slug).strip()


def plain_text(markdown: str, links: LinkWords = unresolved_link) -> str:
    """The words of a Markdown text without its markup, as a reader reads it, for indexing and snippets.

    Each `[[slug]]` or `[[slug|words]]` becomes what `links` says it reads as (by default
    its words, else its slug); other links keep their text; headings, quotes, list marks,
    emphasis, fences and table rules are dropped.
    """
    text = _FENCE.sub("", markdown)
    text = _WIKI_LINK.sub(lambda m: links(m.group(1).strip(), m.group(2)), text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _TABLE_RULE.sub("", text)
    text = _LINE_MARKS.sub("", text)
    text = text.replace("|", " ")
    for _ in range(2):
        text = _EMPHASIS.sub(lambda match: match.group(2) or match.group(4), text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def facet_key(value: str) -> str:
    """A facet value as the index keeps it: lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
