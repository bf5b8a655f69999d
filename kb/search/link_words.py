"""What an entry's `[[slug]]` links read as in its search texts and snippets: the words its page shows.

A link shows its target's title (or the words given with it) exactly where the page
shows it: through the same link-showing rule (`kb.permissions_links`), since the index
holds one text for every reader of the entry. Where the page cannot show the target (it
is unknown, or some readers of the entry may not see it), the link reads as its words,
else its slug, never the target's title.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session, object_session

from kb.entries.models import Entry
from kb.entries.targets import LinkTargets, named_slugs
from kb.permissions_links import link_end_for, link_resolver
from kb.search.text import LinkWords, unresolved_link


def linked_texts(entry: Entry) -> list[str]:
    """The Markdown texts of `entry` that may hold links to other entries."""
    texts: list[str | None] = [entry.summary, entry.body]
    texts += [getattr(entry, name, None) for name in ("driving_event", "lesson_text", "recommendation", "evidence")]
    texts.append(getattr(entry, "terms_of_reference", None))
    return [text for text in texts if text]


def link_readers(entries: Iterable[Entry], session: Session | None = None) -> dict[int, LinkWords]:
    """How the links of each entry read, by entry id; the targets of all of them are loaded in one query.

    `session` is the one the entries were loaded in (found from the first entry when not given).
    """
    entries = list(entries)
    named = {entry.id: named_slugs(linked_texts(entry)) for entry in entries}
    slugs = {slug: None for found in named.values() for slug in found}
    if not slugs:
        return {entry.id: unresolved_link for entry in entries}
    if session is None:
        session = object_session(entries[0])
    targets = LinkTargets(slugs, session=session)
    return {entry.id: _reader(entry, targets) if named[entry.id] else unresolved_link for entry in entries}


def link_reader(entry: Entry, texts: Iterable[str] | None = None) -> LinkWords:
    """How the links of one entry read (one query for its targets when it has links).

    Given `texts` (some of the entry's), nothing is looked up when they hold no link.
    """
    if texts is not None and not named_slugs(texts):
        return unresolved_link
    return link_readers([entry])[entry.id]


def _reader(entry: Entry, targets: LinkTargets) -> LinkWords:
    resolve = link_resolver(link_end_for(entry), targets)

    def read(slug: str, words: str | None) -> str:
        target = resolve(slug)
        if words or target is None or not target.shown:
            return unresolved_link(slug, words)
        return target.title.strip()

    return read
