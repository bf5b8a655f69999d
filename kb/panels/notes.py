"""Numbered note markers in a finding's text: `[^N]` where the claim is, linked to the finding's N-th citation.

A finding's citations are numbered 1..n in their order (`Citation.position`). The writer puts
`[^N]` in the finding or its recommendations where a claim rests on citation N. When the text
is saved, `link_notes` turns each marker whose N is a citation of the finding into a
superscript link to the note, `<li id="finding-F-note-N">` in the list the templates print
(`templates/panels/_notes.html`), and leaves any other N as the plain text it was typed as.

It works on HTML already rendered and cleaned by `kb.markdown.render`, changing only text
between tags, never a tag, an attribute, code (`code`, `pre`) or the words of a link, in one
pass over the HTML. A Markdown footnote with its own definition (`[^1]: ...`) is left to the
Markdown renderer, which never leaves its marker as text.

When a citation is moved or removed the numbers change, so `renumber_markers` rewrites the
Markdown source: each marker that `link_notes` would link (judged on the text as rendered, so
by exactly these rules) gets its citation's new number, and a removed citation's marker
becomes `REMOVED`; markers in code or in a link's words, and footnotes, stay as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

MARKER = re.compile(r"\[\^([1-9][0-9]{0,3})\]")
"""A note marker as typed: `[^N]`, N a whole number from 1 (four digits at most)."""

_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:[^>"]|"[^"]*")*>')
"""One tag of sanitised HTML (its attribute values are always double-quoted)."""

_UNTOUCHED = frozenset({"a", "code", "pre"})
"""Elements whose text is never changed: a link cannot hold another, and code is shown as typed."""

_LINKED_REF = re.compile(r'id="finding-(\d+)-ref-(\d+)"')

REMOVED = "[citation removed]"
"""What a marker of a removed citation becomes: plain text saying the claim's evidence was taken away."""

_DEFINITION = re.compile(r"^ {0,3}\[\^([^\]\n]+)\]:", re.MULTILINE)
"""The start of a Markdown footnote's definition, `[^label]:`; a defined label is a footnote, not a note."""

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
"""The opening or closing line of a fenced code block."""

_MOST_NOTES = 9999
"""The largest N a marker can have (four digits)."""


def note_id(finding_number: int, note: int) -> str:
    """The id of note `note` in the notes list of finding `finding_number`."""
    return f"finding-{finding_number}-note-{note}"


def ref_id(finding_number: int, note: int) -> str:
    """The id of the first place the text of finding `finding_number` refers to note `note`."""
    return f"finding-{finding_number}-ref-{note}"


def _reference(finding_number: int, note: int, first: bool) -> str:
    # Only the first reference to a note carries the id the note's "back to text" link goes to.
    anchor = f' id="{ref_id(finding_number, note)}"' if first else ""
    return f'<sup class="kb-note-ref"><a href="#{note_id(finding_number, note)}"{anchor}>{note}</a></sup>'


def _link_text(text: str, finding_number: int, known: int, seen: set[int]) -> str:
    def replace(match: re.Match[str]) -> str:
        note = int(match.group(1))
        if note > known:
            return match.group(0)
        first = note not in seen
        seen.add(note)
        return _reference(finding_number, note, first)

    return MARKER.sub(replace, text)


def link_notes(html: str, finding_number: int, known: int, seen: set[int] | None = None) -> str:
    """`html` (sanitised by `kb.markdown`) with each `[^N]`, 1 <= N <= `known`, as a link to note N of the finding.

    Markers inside code, preformatted text or a link, and markers of unknown notes, stay as
    they are. `seen` collects the notes referred to; pass the same set for the finding's
    second text so that only the first reference to a note, in either text, gets its id.
    """
    if known <= 0 or "[^" not in html:
        return html
    seen = set() if seen is None else seen
    parts: list[str] = []
    inside = 0  # how many untouched elements the text is in
    position = 0
    for tag in _TAG.finditer(html):
        text = html[position : tag.start()]
        parts.append(_link_text(text, finding_number, known, seen) if not inside and text else text)
        parts.append(tag.group(0))
        name = tag.group(2).lower()
        if name in _UNTOUCHED:
            inside = max(0, inside - 1) if tag.group(1) else inside + 1
        position = tag.end()
    tail = html[position:]
    parts.append(_link_text(tail, finding_number, known, seen) if not inside else tail)
    return "".join(parts)


def referred_notes(html_texts: Iterable[str], finding_number: int) -> set[int]:
    """The notes of finding `finding_number` that its stored texts refer to (those with a "back to text" link)."""
    found: set[int] = set()
    for html in html_texts:
        for match in _LINKED_REF.finditer(html):
            if int(match.group(1)) == finding_number:
                found.add(int(match.group(2)))
    return found


def _without_fenced_code(text: str) -> str:
    """`text` with the lines inside fenced code blocks left out: a `[^2]:` shown as code defines nothing."""
    kept: list[str] = []
    fence = ""
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        else:
            kept.append(line)
    return "\n".join(kept)


def renumber_markers(text: str, new_numbers: Mapping[int, int | None], render_html: Callable[[str], str]) -> str:
    """`text` (Markdown) with each real marker `[^N]`, N in `new_numbers`, as `[^new]`, or `REMOVED` when new is None.

    A marker is real when `link_notes` would link it in `render_html(text)` (the renderer the
    finding is shown with). To tell which are, every marker not a footnote is given a stand-in
    number of its own, the text is rendered, and the stand-ins linked are read back. Markers
    in code, in a link's words, of a defined footnote or of an N not in `new_numbers` are kept.
    """
    defined = {match.group(1) for match in _DEFINITION.finditer(_without_fenced_code(text))}
    markers = [match for match in MARKER.finditer(text) if match.group(1) not in defined]
    free = (number for number in range(1, _MOST_NOTES + 1) if str(number) not in defined)
    stand_ins = [number for number, _ in zip(free, markers, strict=False)]
    if not any(int(match.group(1)) in new_numbers for match in markers) or len(stand_ins) < len(markers):
        return text
    parts: list[str] = []
    position = 0
    for match, stand_in in zip(markers, stand_ins, strict=True):
        parts += [text[position : match.start()], f"[^{stand_in}]"]
        position = match.end()
    linked: set[int] = set()
    link_notes(render_html("".join(parts) + text[position:]), 0, _MOST_NOTES, linked)
    parts, position = [], 0
    for match, stand_in in zip(markers, stand_ins, strict=True):
        old = int(match.group(1))
        if stand_in not in linked or old not in new_numbers:
            continue
        new = new_numbers[old]
        parts += [text[position : match.start()], REMOVED if new is None else f"[^{new}]"]
        position = match.end()
    return "".join(parts) + text[position:]
