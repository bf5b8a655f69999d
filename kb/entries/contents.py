"""The contents list of an entry page, built from its stored rendering."""

from __future__ import annotations

from typing import Any

from kb.entries.vocabulary import LESSON_SECTIONS
from kb.states import EntryKind

MIN_ITEMS = 3
MIN_WORDS = 300


def page_contents(kind: str, rendered: dict[str, Any], words: int) -> list[dict[str, str]]:
    """Links to the page's main headings; empty for short entries that need no contents list."""
    items: list[dict[str, str]] = []
    if kind == EntryKind.LESSON:
        items = [{"anchor": key.replace("_", "-"), "title": label} for key, label in LESSON_SECTIONS.items()]
    elif kind == EntryKind.REVIEW:
        if "terms_of_reference" in rendered:
            items.append({"anchor": "terms-of-reference", "title": "Terms of reference"})
        items.append({"anchor": "about-review", "title": "About this review"})
    body = rendered.get("body", {})
    items.extend(
        {"anchor": heading["anchor"], "title": heading["title"]}
        for heading in body.get("headings", [])
        if heading["level"] == 2
    )
    return items if len(items) >= MIN_ITEMS and words >= MIN_WORDS else []
