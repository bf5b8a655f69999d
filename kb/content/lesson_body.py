"""A lesson's body: its `## ` section headings, cut into the four sections in their order.

This module has no app and no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

from kb.entries.vocabulary import LESSON_SECTIONS

_HEADING_2 = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def level_two_headings(lines: list[str]) -> list[re.Match[str] | None]:
    """For each line, its `## heading` match, or None; lines inside code fences never match."""
    matches: list[re.Match[str] | None] = []
    fence: str | None = None
    for line in lines:
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            fence = None if fence and marker.startswith(fence) else (fence or marker)
        matches.append(None if fence or fence_match else _HEADING_2.match(line))
    return matches


def split_lesson_body(body: str, first_line: int, report: Callable[[int, str], None]) -> dict[str, str]:
    """Cut a lesson's body into its four sections, reporting any that are missing or odd."""
    by_label = {label.lower(): key for key, label in LESSON_SECTIONS.items()}
    sections: dict[str, list[str]] = {}
    heading_lines: dict[str, int] = {}
    current: str | None = None
    lines = body.split("\n")
    for offset, (line, heading) in enumerate(zip(lines, level_two_headings(lines), strict=True)):
        if heading:
            label = heading.group(1)
            key = by_label.get(label.lower())
            if key is None:
                report(
                    first_line + offset,
                    f"unknown lesson section '## {label}'; the sections are "
                    + ", ".join(LESSON_SECTIONS.values())
                    + " (use ### for headings inside one)",
                )
            elif key in sections:
                report(first_line + offset, f"section '## {label}' appears twice")
            else:
                current = key
                sections[key] = []
                heading_lines[key] = first_line + offset
            continue
        if current is None:
            if line.strip():
                report(first_line + offset, "text before the first section; a lesson starts with '## Driving event'")
        else:
            sections[current].append(line)
    texts = {key: "\n".join(lines).strip() for key, lines in sections.items()}
    for key, label in LESSON_SECTIONS.items():
        if key not in texts:
            report(first_line, f"missing section '## {label}'")
        elif not texts[key]:
            report(heading_lines[key], f"section '## {label}' is empty")
    order = list(LESSON_SECTIONS)
    found = list(texts)
    misplaced = [key for before, key in pairwise(found) if order.index(key) < order.index(before)]
    if misplaced:
        expected = ", ".join(LESSON_SECTIONS.values())
        report(heading_lines[misplaced[0]], f"sections are out of order; the order is {expected}")
    return texts
