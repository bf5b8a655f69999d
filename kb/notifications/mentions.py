"""@mentions: each member's handle, finding handles in Markdown, and marking them in HTML.

A handle is derived from the display name: accents dropped, lowercase, every run of
characters other than letters and digits turned into one "-", with none at either end
("Jane Smith" and "jane  smith!" are both `@jane-smith`). Handles are found outside
code spans and code blocks, and never inside an email address. A handle two active
people share is ambiguous: it tells neither of them and is left as plain text.

Everything here is pure: no app, no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.DOTALL)
MENTION = re.compile(r"(?<![\w.+@/-])@([a-z0-9]+(?:-[a-z0-9]+)*)(?![\w@]|-[a-z0-9]|\.[a-z0-9])", re.IGNORECASE)
"""`@handle` not preceded by a character of a word, an address or a path (so not an email address),
and not running on into more of a domain name (`@example.org`)."""
_SKIPPED_ELEMENTS = frozenset({"code", "pre", "a"})


def handle_for(display_name: str) -> str:
    """The handle (without "@") a display name gives; empty when it has no letters or digits."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALPHANUMERIC.sub("-", ascii_name.lower()).strip("-")


def _prose_lines(text: str) -> Iterable[str]:
    """The lines of Markdown `text` outside fenced and indented code blocks."""
    fence: str | None = None
    previous_blank = True
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        if previous_blank and _INDENTED_CODE.match(line) and line.strip():
            continue
        previous_blank = not line.strip()
        yield line


def find_handles(text: str) -> list[str]:
    """The distinct handles @mentioned in Markdown `text`, lowercase, in the order first written.

    Code blocks, code spans and email addresses are skipped.
    """
    prose = _CODE_SPAN.sub(" ", "\n".join(_prose_lines(text)))
    found: dict[str, None] = {}
    for match in MENTION.finditer(prose):
        found.setdefault(match.group(1).lower(), None)
    return list(found)


@dataclass(frozen=True)
class Resolution:
    """What the handles in a text name: one person each, or more than one (ambiguous)."""

    people: dict[str, int]
    """Handle to the id of the one active person who has it."""
    ambiguous: frozenset[str]
    """Handles that two or more active people share; they tell nobody."""


def resolve_handles(handles: Iterable[str], people: Iterable[tuple[int, str]]) -> Resolution:
    """Match `handles` against `people` (id and display name of each active person).

    A handle nobody has is dropped; one more than one person has is ambiguous.
    """
    wanted = set(handles)
    owners: dict[str, list[int]] = {}
    for person_id, name in people:
        handle = handle_for(name)
        if handle in wanted:
            owners.setdefault(handle, []).append(person_id)
    return Resolution(
        people={handle: ids[0] for handle, ids in owners.items() if len(ids) == 1},
        ambiguous=frozenset(handle for handle, ids in owners.items() if len(ids) > 1),
    )


class _MentionMarker(HTMLParser):
    """Rewrites sanitised HTML, wrapping known @handles in text outside code and links."""

    def __init__(self, names: Mapping[str, str]) -> None:
        super().__init__(convert_charrefs=False)
        self.names = names
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_ELEMENTS:
            self.skipping += 1
        self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_ELEMENTS and self.skipping:
            self.skipping -= 1
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data if self.skipping else MENTION.sub(self._mark, data))

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def _mark(self, match: re.Match[str]) -> str:
        handle = match.group(1).lower()
        name = self.names.get(handle)
        if name is None:
            return match.group(0)
        return f'<span class="kb-mention" title="{escape(name)}">{match.group(0)}</span>'


def mark_mentions(html: str, names: Mapping[str, str]) -> str:
    """`html` with each @handle in `names` (handle to display name) wrapped in a `kb-mention` span.

    Text inside `code`, `pre` and links is left alone, as is any handle not in `names`
    (unknown or ambiguous), so only people who were told are marked.
    """
    if not names:
        return html
    marker = _MentionMarker(names)
    marker.feed(html)
    marker.close()
    return "".join(marker.out)
