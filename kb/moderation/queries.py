"""Read-side queries for the moderators' pages: the flag queue and the curation lists.

These pages are for staff, who see every entry; the queries still apply
`visible_entries`, so a list never shows what its viewer may not see.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from kb.comments.models import Comment
from kb.entries.models import Entry
from kb.extensions import db
from kb.moderation.models import FLAG_REASONS, Flag, flag_target_key
from kb.permissions import Viewer, visible_entries
from kb.states import EntryStatus

CURATION_LIST_LIMIT = 50
MERGE_CANDIDATES_LIMIT = 20


@dataclass
class FlaggedItem:
    """One flagged comment or entry with its open flags, as the queue shows it."""

    key: str
    entry: Entry
    comment: Comment | None
    parent: Comment | None
    flags: list[Flag] = field(default_factory=list)

    @property
    def first_flagged_at(self) -> dt.datetime:
        """When the oldest open flag was raised."""
        return self.flags[0].created_at

    @property
    def reporter_count(self) -> int:
        """How many people flagged the item."""
        return len({flag.reporter_id for flag in self.flags})

    @property
    def reason_counts(self) -> list[tuple[str, int]]:
        """Each reason given, with how many gave it, in the order of `FLAG_REASONS`."""
        counts = Counter(flag.reason for flag in self.flags)
        return [(FLAG_REASONS[reason], counts[reason]) for reason in FLAG_REASONS if counts[reason]]

    @property
    def notes(self) -> list[Flag]:
        """The flags that came with a note."""
        return [flag for flag in self.flags if flag.note]


def open_flag_items(viewer: Viewer) -> list[FlaggedItem]:
    """Every item with open flags, the one flagged longest ago first."""
    query = (
        select(Flag)
        .join(Entry, Entry.id == Flag.entry_id)
        .where(Flag.resolution.is_(None), visible_entries(viewer))
        .order_by(Flag.created_at, Flag.id)
        .options(
            selectinload(Flag.entry),
            selectinload(Flag.reporter),
            selectinload(Flag.comment).selectinload(Comment.author),
        )
    )
    items: dict[str, FlaggedItem] = {}
    for flag in db.session.scalars(query):
        item = items.get(flag.target_key)
        if item is None:
            item = items[flag.target_key] = FlaggedItem(flag.target_key, flag.entry, flag.comment, None)
        item.flags.append(flag)
    _attach_parents(list(items.values()))
    return list(items.values())


def _attach_parents(items: list[FlaggedItem]) -> None:
    parent_ids = {item.comment.parent_id for item in items if item.comment is not None and item.comment.parent_id}
    if not parent_ids:
        return
    parents = {
        parent.id: parent
        for parent in db.session.scalars(
            select(Comment).where(Comment.id.in_(parent_ids)).options(selectinload(Comment.author))
        )
    }
    for item in items:
        if item.comment is not None and item.comment.parent_id:
            item.parent = parents.get(item.comment.parent_id)


def flagged_item(entry: Entry, comment: Comment | None = None) -> FlaggedItem:
    """One item (already loaded for a viewer who may see it) with its open flags, for its own moderation page."""
    key = flag_target_key(entry.id, comment.id if comment is not None else None)
    flags = list(
        db.session.scalars(
            select(Flag)
            .where(Flag.target_key == key, Flag.resolution.is_(None))
            .order_by(Flag.created_at, Flag.id)
            .options(selectinload(Flag.reporter))
        )
    )
    parent = db.session.get(Comment, comment.parent_id) if comment is not None and comment.parent_id else None
    return FlaggedItem(key, entry, comment, parent, flags)


def open_flag_count() -> int:
    """How many items (comments and entries) have open flags, for the moderators' navigation."""
    return db.session.scalar(select(func.count(func.distinct(Flag.target_key))).where(Flag.resolution.is_(None))) or 0


def locked(viewer: Viewer) -> list[Entry]:
    """Entries whose discussion is locked, by title."""
    query = select(Entry).where(Entry.locked.is_(True), visible_entries(viewer)).order_by(Entry.title)
    return list(db.session.scalars(query.limit(CURATION_LIST_LIMIT)))


def recently_merged(viewer: Viewer) -> list[Entry]:
    """Duplicates merged into other entries, the most recently merged first, with their targets."""
    query = (
        select(Entry)
        .where(Entry.status == EntryStatus.MERGED, visible_entries(viewer))
        .order_by(Entry.status_changed_at.desc().nulls_last(), Entry.id.desc())
        .options(selectinload(Entry.merged_into))
        .limit(CURATION_LIST_LIMIT)
    )
    return list(db.session.scalars(query))


def merge_candidates(viewer: Viewer, duplicate: Entry, text: str) -> list[Entry]:
    """Entries of the duplicate's kind that it could be merged into, matching `text` in slug or title."""
    words = text.strip().lower().split()
    if not words:
        return []
    query = select(Entry).where(
        visible_entries(viewer),
        Entry.kind == duplicate.kind,
        Entry.id != duplicate.id,
        Entry.status.in_((EntryStatus.PUBLISHED, EntryStatus.HIDDEN)),
    )
    for word in words[:8]:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        query = query.where(or_(func.lower(Entry.title).like(pattern), Entry.slug.like(pattern)))
    return list(db.session.scalars(query.order_by(Entry.title).limit(MERGE_CANDIDATES_LIMIT)))
