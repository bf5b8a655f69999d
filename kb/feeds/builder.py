"""Atom documents from items: what one feed item says, and the feed written with feedgen.

Every address in a feed is absolute (on `SITE_URL`), every id a stable `tag:` URI made
from the thing's database id, and every text plain: feedgen escapes it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from flask import current_app, url_for

from kb.consultations.models import Consultation
from kb.dates import as_utc, utcnow
from kb.entries.models import Entry
from kb.entries.vocabulary import KINDS
from kb.panels.models import Finding
from kb.search.text import plain_text

SUMMARY_CHARS = 400
"""The most characters of a finding's or a consultation's text an item carries."""
TAG_DATE = "2024"
"""The date part of every `tag:` id (RFC 4151); fixed, so ids never change."""
UNTITLED = "Untitled"
"""An item's title when nothing of its own is left to write (an Atom entry must have one)."""
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE, U+FFFF): lxml refuses to write one."""


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed: what it is called, where it is, what it says and when it changed."""

    key: str
    """What the item is, as `kind/id` (`entry/12`, `finding/3`), made into its `tag:` id."""
    title: str
    path: str
    summary: str
    updated: dt.datetime
    published: dt.datetime | None = None
    author: str | None = None
    category: str | None = None


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids, so that one odd title cannot break a whole feed."""
    return _NOT_XML.sub("", text)


def absolute(path: str) -> str:
    """`path` on the configured `SITE_URL`, never the request's Host header."""
    return f"{current_app.config['SITE_URL']}{path}"


def tag_uri(key: str) -> str:
    """The stable id of `key` (`entry/12`) on this site: `tag:<host>,2024:kb/entry/12`."""
    host = urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"
    return f"tag:{host},{TAG_DATE}:kb/{key}"


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def _words_only(slug: str, words: str | None) -> str:
    # A `[[slug]]` link's target may be hidden from the reader: an item keeps the link's words, never the slug.
    return (words or "").strip()


def entry_item(entry: Entry) -> FeedItem:
    """An entry as a feed item: its title, summary, kind, and the organisation its page names under "From"."""
    return FeedItem(
        key=f"entry/{entry.id}",
        title=entry.title,
        path=entry.path,
        summary=entry.summary,
        updated=as_utc(entry.updated_at),
        published=as_utc(entry.published_at) if entry.published_at else None,
        author=entry.organisation or None,
        category=KINDS.get(entry.kind),
    )


def finding_item(review: Entry, finding: Finding) -> FeedItem:
    """A published finding of `review` as a feed item, with the start of its text."""
    return FeedItem(
        key=f"finding/{finding.id}",
        title=f"Finding {finding.number}: {finding.title}",
        path=url_for("panels.finding", slug=review.slug, number=finding.number),
        summary=_shortened(plain_text(finding.body, _words_only)),
        updated=as_utc(finding.updated_at),
        published=as_utc(finding.published_at) if finding.published_at else None,
        category="Finding",
    )


def consultation_item(consultation: Consultation) -> FeedItem:
    """A consultation as a feed item, with the start of its introduction.

    It changes when it is made, when it opens, and when its outcome is published.
    """
    made = as_utc(consultation.created_at)
    moments = [made, as_utc(consultation.opens_at)]
    if consultation.outcome_published_at is not None:
        moments.append(as_utc(consultation.outcome_published_at))
    now = utcnow()
    return FeedItem(
        key=f"consultation/{consultation.id}",
        title=f"Consultation: {consultation.title}",
        path=url_for("consultations.show", consultation_id=consultation.id),
        summary=_shortened(plain_text(consultation.introduction, _words_only)),
        updated=max(moment for moment in moments if moment <= now) if made <= now else made,
        published=made,
        category="Consultation",
    )


def newest_first(items: Sequence[FeedItem]) -> list[FeedItem]:
    """`items` with the most recently changed first (ties by id, so the order is stable)."""
    return sorted(items, key=lambda item: (item.updated, item.key), reverse=True)


def atom(*, title: str, path: str, page_path: str, items: Sequence[FeedItem]) -> bytes:
    """The Atom document of a feed at `path` (token-less) about the page at `page_path`, items in the order given."""
    feed = FeedGenerator()
    site_name = current_app.config["SITE_NAME"]
    feed.id(xml_text(absolute(path)))
    feed.title(xml_text(f"{title} – {site_name}"))
    feed.subtitle(xml_text(current_app.config["SITE_TAGLINE"]))
    feed.author({"name": xml_text(site_name)})
    feed.link(href=xml_text(absolute(page_path)), rel="alternate", type="text/html")
    feed.link(href=xml_text(absolute(path)), rel="self", type="application/atom+xml")
    feed.language("en-GB")
    feed.generator(xml_text(site_name))
    feed.updated(max((item.updated for item in items), default=utcnow()))
    for item in items:
        added = feed.add_entry(order="append")
        title = xml_text(item.title).strip() or UNTITLED
        added.id(xml_text(tag_uri(item.key)))
        added.title(title)
        added.link(href=xml_text(absolute(item.path)), rel="alternate", type="text/html")
        added.summary(xml_text(item.summary).strip() or title)
        added.updated(item.updated)
        if item.published is not None:
            added.published(item.published)
        if item.author:
            added.author({"name": xml_text(item.author)})
        if item.category:
            added.category(term=xml_text(item.category))
    document: bytes = feed.atom_str(pretty=False)
    return document
