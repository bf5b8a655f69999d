"""Curating tags: renaming one, merging one into another, moving one into a theme, and listing the unthemed.

Every verb checks `taxonomy.curate`, records an audit event and flushes; the route commits.
An entry's current revision holds its whole document (what export writes), so a rename
that changes a tag's slug, and a merge, save every entry carrying the tag as a new
revision naming the new slug. The old slug is kept as a `TagAlias`: its address redirects
to the tag, and a content file still naming it is given the tag.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from kb.audit.service import record_event
from kb.content.document import parse_document
from kb.content.fields import SLUG, normalise_tag
from kb.contributions.service import store_document
from kb.entries.limits import TAG_MAX_CHARS
from kb.entries.models import Entry, entry_tags
from kb.entries.service import current_revision
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.permissions import require
from kb.taxonomy.models import Tag, TagAlias, Theme
from kb.text import clean_line
from kb.users.models import User

LABEL_MAX = 200
MESSAGE_MAX = 500


class TagCurationError(InvalidInputError):
    """A rename, merge or move that cannot be done as asked; the message says why."""


def tag_for_alias(slug: str) -> Tag | None:
    """The tag an earlier slug (of a renamed or merged tag) now leads to, or None."""
    return db.session.scalar(select(Tag).join(TagAlias, TagAlias.tag_id == Tag.id).where(TagAlias.slug == slug))


def tags_with_use() -> list[tuple[Tag, int]]:
    """Every tag with how many entries carry it (whatever their status), by theme then label.

    Unthemed tags come first: they are the ones waiting for a moderator's decision.
    """
    query = (
        select(Tag, func.count(entry_tags.c.entry_id))
        .outerjoin(entry_tags, entry_tags.c.tag_id == Tag.id)
        .outerjoin(Theme, Theme.id == Tag.theme_id)
        .group_by(Tag.id, Theme.position)
        .order_by(Tag.theme_id.is_not(None), Theme.position, Tag.position, Tag.label)
    )
    return [(tag, count) for tag, count in db.session.execute(query).all()]


def unthemed_tags() -> list[tuple[Tag, int]]:
    """Free tags (in no theme) with how many entries carry them, by label."""
    return [(tag, count) for tag, count in tags_with_use() if tag.theme_id is None]


def _entries_carrying(tag: Tag) -> list[Entry]:
    query = select(Entry).join(entry_tags, entry_tags.c.entry_id == Entry.id).where(entry_tags.c.tag_id == tag.id)
    return list(db.session.scalars(query.order_by(Entry.id)))


def _retag(entry: Entry, old: Tag, old_slugs: set[str], new: Tag, *, actor: User, message: str) -> None:
    """Give `entry` the tag `new` for `old` (the same tag for a rename): a new revision naming it by its slug.

    An entry whose document does not read back only has its tags changed.
    """
    revision = current_revision(entry)
    parsed = parse_document(revision.document, entry.slug) if revision is not None else None
    if parsed is None or parsed.document is None:
        entry.tags = list(dict.fromkeys(new if tag.id == old.id else tag for tag in entry.tags))
        db.session.flush()
        return
    document = parsed.document
    # The entry carries `old` even where its document does not name it (tags set outside a revision).
    named = [new.slug if slug in old_slugs else slug for slug in document.tags]
    document.tags = list(dict.fromkeys([*named, new.slug]))
    store_document(document, entry, actor=actor, message=message[:MESSAGE_MAX])


def _slugs_of(tag: Tag) -> set[str]:
    """The tag's slug and its earlier ones."""
    return {tag.slug, *db.session.scalars(select(TagAlias.slug).where(TagAlias.tag_id == tag.id))}


def _check_free_slug(slug: str, tag: Tag) -> None:
    """Raise TagCurationError when `slug` names another tag, or was once the address of another tag."""
    other = db.session.scalar(select(Tag).where(Tag.slug == slug, Tag.id != tag.id))
    if other is not None:
        raise TagCurationError(f"The tag “{other.label}” already has the address {slug}: merge into it instead.")
    earlier = tag_for_alias(slug)
    if earlier is not None and earlier.id != tag.id:
        raise TagCurationError(f"{slug} was the address of a tag now called “{earlier.label}”: choose another.")


def rename_tag(tag: Tag, *, label: str, slug: str, actor: User) -> int:
    """Give `tag` a new label and, when `slug` differs, a new address; returns how many entries were retagged.

    A new slug retags every entry carrying the tag (one revision each) and keeps the old
    slug as an alias. Raises PermissionDeniedError, TagCurationError (empty or too long
    label, bad slug, a slug another tag has or had, nothing changed).
    """
    require(actor, "taxonomy.curate")
    label, slug = clean_line(label), normalise_tag(slug or label)
    if not label:
        raise TagCurationError("Enter the tag's new name.")
    if len(label) > LABEL_MAX:
        raise TagCurationError(f"The name must be {LABEL_MAX} characters or fewer.")
    if not SLUG.match(slug) or len(slug) > TAG_MAX_CHARS:
        raise TagCurationError(f"The address must be letters and numbers, {TAG_MAX_CHARS} characters or fewer.")
    if (label, slug) == (tag.label, tag.slug):
        raise TagCurationError("That is the tag's name and address already.")
    old_label, old_slug = tag.label, tag.slug
    tag.label = label
    retagged = 0
    if slug != old_slug:
        _check_free_slug(slug, tag)
        db.session.execute(delete(TagAlias).where(TagAlias.slug == slug))
        entries, old_slugs = _entries_carrying(tag), _slugs_of(tag)
        tag.slug = slug
        db.session.add(TagAlias(slug=old_slug, tag=tag))
        db.session.flush()
        for entry in entries:
            _retag(entry, tag, old_slugs, tag, actor=actor, message=f"Tag {old_slug} renamed {slug}")
        retagged = len(entries)
    record_event("tag.rename", actor=actor, target=tag, old=f"{old_label} ({old_slug})", new=f"{label} ({slug})")
    db.session.flush()
    return retagged


def merge_tag(source: Tag, target: Tag, *, actor: User) -> int:
    """Merge `source` into `target`: every entry carrying it carries `target` instead; returns how many.

    `source` is deleted; its slug and its own aliases lead to `target` from then on.
    Raises PermissionDeniedError, TagCurationError (a tag into itself).
    """
    require(actor, "taxonomy.curate")
    if source.id == target.id:
        raise TagCurationError("Choose another tag to merge into.")
    entries, old_slugs = _entries_carrying(source), _slugs_of(source)
    for entry in entries:
        _retag(entry, source, old_slugs, target, actor=actor, message=f"Tag {source.slug} merged into {target.slug}")
    db.session.execute(delete(entry_tags).where(entry_tags.c.tag_id == source.id))
    for alias in db.session.scalars(select(TagAlias).where(TagAlias.tag_id == source.id)):
        alias.tag = target
    db.session.add(TagAlias(slug=source.slug, tag=target))
    record_event("tag.merge", actor=actor, target=target, old=source.slug, new=target.slug)
    db.session.delete(source)
    db.session.flush()
    return len(entries)


def move_tag(tag: Tag, theme: Theme | None, *, actor: User) -> None:
    """Put `tag` at the end of `theme`'s tags, or make it a free tag when `theme` is None.

    Raises PermissionDeniedError, TagCurationError (it is there already).
    """
    require(actor, "taxonomy.curate")
    if tag.theme_id == (theme.id if theme else None):
        raise TagCurationError("The tag is there already." if theme else "The tag is in no theme already.")
    old = tag.theme.label if tag.theme else "no theme"
    if theme is not None:
        last = db.session.scalar(select(func.max(Tag.position)).where(Tag.theme_id == theme.id))
        tag.position = (last if last is not None else -1) + 1
    tag.theme = theme
    record_event("tag.move", actor=actor, target=tag, old=old, new=theme.label if theme else "no theme")
    db.session.flush()


def find_tag(slug: str) -> Tag | None:
    """The tag with this slug (any tag: moderators curate them all)."""
    return db.session.scalar(select(Tag).where(Tag.slug == slug))


def themes_in_order() -> list[Theme]:
    """Every theme, in the taxonomy's order."""
    return list(db.session.scalars(select(Theme).order_by(Theme.position, Theme.label)))
