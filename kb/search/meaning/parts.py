"""An entry's parts as search by meaning embeds them: each with a label, an anchor on its page, and its text.

The parts are the title with the summary (and tags), each lesson section, the text split at
its headings (so a long paper is found by the section that answers), the terms of reference,
and each page of the entry's current documents. A part longer than `MAX_WORDS` is cut into
pieces at paragraph ends, since a mean of many words says less about each of them.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from markdown.extensions.toc import slugify_unicode
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.documents.links import document_page_link
from kb.documents.models import Document, DocumentPage
from kb.entries.models import Entry, Lesson
from kb.entries.vocabulary import LESSON_SECTIONS
from kb.search.documents import entry_texts
from kb.search.page_texts import current_documents
from kb.search.text import plain_text

MAX_WORDS = 250
"""A part longer than this is embedded in pieces (each found, and scored, on its own)."""

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


@dataclass(frozen=True)
class Part:
    """One piece of an entry that is embedded on its own."""

    label: str
    """What the part is, as a reader would say it ("Lesson", "Costs and risks", "Page 4 of Terms.pdf")."""
    anchor: str
    """Where it is: a fragment of the entry's page ("evidence"), or the address of a document page."""
    text: str

    def fingerprint(self, model: str, weighting: str = "") -> str:
        """A hash of the part, the model that embeds it and the version of its token weights: equal, equal vectors.

        The plain mean (`weighting` "") leaves the version out.
        """
        fields = (model, self.label, self.anchor, self.text) + ((f"weights:{weighting}",) if weighting else ())
        return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PageOfDocument:
    """A page of one of the entry's current documents, as its part needs it."""

    document_id: int
    document_title: str
    number: int
    text: str


def pieces(text: str, limit: int = MAX_WORDS) -> list[str]:
    """`text` cut at paragraph ends (a paragraph too long itself, between words) into runs of at most `limit` words."""
    found: list[str] = []
    words: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph_words = paragraph.split()
        if words and len(words) + len(paragraph_words) > limit:
            found.append(" ".join(words))
            words = []
        while len(paragraph_words) > limit:
            found.append(" ".join(paragraph_words[:limit]))
            paragraph_words = paragraph_words[limit:]
        words += paragraph_words
    if words:
        found.append(" ".join(words))
    return found


def sections(markdown: str, *, anchor_prefix: str = "") -> list[tuple[str, str, str]]:
    """The (heading, anchor, Markdown) of each section of `markdown`: the text before the first heading has none.

    Anchors are the ids the entry page gives its headings (`kb.markdown.render`), so a part links to its place.
    """
    found: list[tuple[str, str, list[str]]] = [("", "", [])]
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading is None:
            found[-1][2].append(line)
            continue
        title = plain_text(heading.group(2))
        anchor = f"h-{anchor_prefix}{slugify_unicode(title, '-') or 'section'}"
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.append((title, anchor if count == 0 else f"{anchor}_{count}", []))
    return [(title, anchor, "\n".join(lines)) for title, anchor, lines in found if title or "".join(lines).strip()]


def _split(label: str, anchor: str, text: str) -> list[Part]:
    return [Part(label, anchor, piece) for piece in pieces(text)]


def entry_parts(entry: Entry, pages: Collection[PageOfDocument] = ()) -> list[Part]:
    """The parts of `entry` (its tags loaded) and of its current documents' `pages`, in page order."""
    texts = entry_texts(entry)
    head = [entry.title, plain_text(texts.get("summary", ""))]
    if entry.tags:
        head.append(", ".join(tag.label for tag in entry.tags))
    parts = [Part("Summary", "", "\n\n".join(text for text in head if text.strip()))]
    for key, label in LESSON_SECTIONS.items():
        if isinstance(entry, Lesson) and key in texts:
            parts += _split(label, key.replace("_", "-"), plain_text(texts[key]))
    if "body" in texts:
        for title, anchor, markdown in sections(texts["body"]):
            words = plain_text(markdown)
            parts += _split(title or "Text", anchor, f"{title}\n\n{words}" if title else words)
    if "terms_of_reference" in texts:
        parts += _split("Terms of reference", "terms-of-reference", plain_text(texts["terms_of_reference"]))
    for page in pages:
        label = f"Page {page.number} of {page.document_title}"
        parts += _split(label, document_page_link(entry.path, page.document_id, page.number), page.text)
    return [part for part in parts if part.text.strip()]


def document_pages(session: Session, entry_ids: Collection[int]) -> dict[int, list[PageOfDocument]]:
    """The pages of each entry's current documents that hold text, in order, in one query."""
    if not entry_ids:
        return {}
    query = (
        select(Document.id, Document.entry_id, Document.title, DocumentPage.number, DocumentPage.text)
        .join(DocumentPage, DocumentPage.document_id == Document.id)
        .where(Document.entry_id.in_(sorted(entry_ids)), current_documents())
        .order_by(Document.entry_id, Document.position, Document.id, DocumentPage.number)
    )
    found: dict[int, list[PageOfDocument]] = defaultdict(list)
    for document_id, entry_id, title, number, text in session.execute(query):
        if text and text.strip():
            found[entry_id].append(PageOfDocument(document_id, title, number, text))
    return dict(found)
