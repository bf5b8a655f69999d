"""What the index holds for one entry: built from the database row, the only source of truth."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from kb.entries.models import Entry, Lesson, Review
from kb.search.link_words import link_reader
from kb.search.page_texts import IndexedDocuments
from kb.search.schema import words_of
from kb.search.text import LinkWords, facet_key, plain_text
from kb.states import EntryKind

PART_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "summary": 2.0,
    "lesson": 2.0,
    "recommendation": 1.5,
    "tags": 1.5,
    "driving_event": 1.0,
    "evidence": 1.0,
    "body": 1.0,
    "terms_of_reference": 1.0,
    "organisation": 1.0,
    "sources": 1.0,
    "comments": 0.5,
    "documents": 1.0,
    "pages": 0.5,
}
"""How much a word counts for, by the part of the entry it appears in (`tags`: tag and theme names;
`comments`: each readable comment on the entry, counting less than the entry's own words;
`documents`: the titles of its current documents; `pages`: each page of their text, counting
less than the entry's own words, so a long attachment does not outweigh the summary)."""


def entry_texts(entry: Entry) -> dict[str, str]:
    """Every Markdown text of an entry, in page order, keyed as in `PART_WEIGHTS` (empty ones left out)."""
    texts = {"summary": entry.summary}
    if isinstance(entry, Lesson):
        texts |= {
            "driving_event": entry.driving_event,
            "lesson": entry.lesson_text,
            "recommendation": entry.recommendation,
            "evidence": entry.evidence,
        }
    texts["body"] = entry.body
    if isinstance(entry, Review) and entry.terms_of_reference:
        texts["terms_of_reference"] = entry.terms_of_reference
    return {key: text for key, text in texts.items() if text and text.strip()}


def read_texts(entry: Entry, links: LinkWords | None = None) -> dict[str, str]:
    """`entry_texts` as plain words as the page reads them, each `[[slug]]` as `links` says (default: `link_reader`)."""
    read = links if links is not None else link_reader(entry)
    return {key: plain_text(text, read) for key, text in entry_texts(entry).items()}


def weighted_parts(entry: Entry, links: LinkWords | None = None) -> list[tuple[str, float]]:
    """The catch-all field's value: each text of the entry as plain words as read, with its weight."""
    parts: list[tuple[str, float]] = [(entry.title, PART_WEIGHTS["title"])]
    parts += [(text, PART_WEIGHTS[key]) for key, text in read_texts(entry, links).items()]
    if entry.tags:
        themes = dict.fromkeys(tag.theme.label for tag in entry.tags if tag.theme is not None)
        labels = [tag.label for tag in entry.tags] + list(themes)
        parts.append((" ".join(labels), PART_WEIGHTS["tags"]))
    if entry.organisation:
        parts.append((entry.organisation, PART_WEIGHTS["organisation"]))
    sources = " ".join(source.get("title") or "" for source in entry.sources or [])
    if sources.strip():
        parts.append((sources, PART_WEIGHTS["sources"]))
    return parts


def entry_date(entry: Entry) -> dt.datetime:
    """The date an entry is listed and sorted by: when it happened, else when it was published or made."""
    if entry.event_date is not None:
        return dt.datetime.combine(entry.event_date, dt.time())
    moment = entry.published_at or entry.created_at
    return moment.replace(tzinfo=None)


def panel_of(entry: Entry) -> int | None:
    """The review whose panel may read the entry when its visibility is `panel`."""
    return entry.id if entry.kind == EntryKind.REVIEW else entry.review_id


def comment_parts(comments: Sequence[str]) -> list[tuple[str, float]]:
    """Each readable comment's Markdown as plain words, a part of its own so no phrase runs across two."""
    return [(plain_text(body), PART_WEIGHTS["comments"]) for body in comments if body and body.strip()]


def document_parts(documents: IndexedDocuments | None) -> list[tuple[str, float]]:
    """The titles of an entry's current documents as one part, then each page of their text as a part of its own."""
    if documents is None:
        return []
    parts: list[tuple[str, float]] = []
    if any(title.strip() for title in documents.titles):
        parts.append((" ".join(documents.titles), PART_WEIGHTS["documents"]))
    return parts + [(page, PART_WEIGHTS["pages"]) for page in documents.pages if page.strip()]


def index_document(
    entry: Entry,
    comments: Sequence[str] = (),
    documents: IndexedDocuments | None = None,
    links: LinkWords | None = None,
) -> dict[str, Any]:
    """The fields to index for `entry` (its tags and their themes loaded), with a fingerprint.

    `comments` are the bodies of its readable comments, oldest first; `documents` the titles
    and page texts of its current documents; `links` how its links read (`link_words`).
    Their words are part of the text and so of the fingerprint, which lets `search check`
    see a stale comment, page or linked title. `pages` (stored) says how many pages were
    indexed, so a results page reads pages only for entries that have some.
    """
    date = entry_date(entry)
    texts = [*weighted_parts(entry, links), *comment_parts(comments), *document_parts(documents)]
    parts = [(words_of(text), weight) for text, weight in texts]
    themes = sorted({tag.theme.slug for tag in entry.tags if tag.theme is not None})
    document: dict[str, Any] = {
        "id": str(entry.id),
        "text": parts,
        "title": entry.title,
        "kind": entry.kind,
        "tag": " ".join(tag.slug for tag in entry.tags),
        "theme": " ".join(themes),
        "region": facet_key(entry.region) if entry.region else "",
        "organisation": facet_key(entry.organisation) if entry.organisation else "",
        "year": str(date.year),
        "date": date,
        "updated": entry.updated_at.replace(tzinfo=None),
        "status": entry.status,
        "visibility": entry.visibility,
        "author": str(entry.author_id) if entry.author_id is not None else "",
        "panel": str(panel_of(entry) or ""),
        "pages": len(documents.pages) if documents is not None and documents.pages else "",
    }
    document["fingerprint"] = fingerprint(document)
    return {key: value for key, value in document.items() if value != ""}


def entry_words(document: dict[str, Any]) -> set[str]:
    """The distinct unstemmed words of an index document's text, for the spelling vocabulary."""
    return {word for words, _ in document["text"] for word in words}


def fingerprint(document: dict[str, Any]) -> str:
    """A short hash of what was indexed, so `search check` can tell a stale document."""
    payload = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
