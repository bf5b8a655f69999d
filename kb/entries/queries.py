"""Read-side queries for pages: lists with filters, backlinks, home-page figures.

Every query here applies `permissions.visible_entries`, so what a viewer may not see is
never listed, counted or linked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, extract, func, select
from sqlalchemy.orm import selectinload

from kb.entries.models import Entry, EntryLink, Review, Revision, entry_tags
from kb.entries.service import MODEL_BY_KIND
from kb.entries.vocabulary import BACKLINK_RELATIONS
from kb.extensions import db
from kb.pagination import Page, paginate
from kb.permissions import Viewer, can_view_entry, can_view_if_published, visible_entries
from kb.states import EntryStatus, LinkRelation, ReviewStatus
from kb.taxonomy.models import Tag, Theme
from kb.users.models import User


@dataclass
class ListFilters:
    """Filters a person can set on a list page; empty values mean "any"."""

    tag: str = ""
    region: str = ""
    year: int | None = None
    sort: str = "newest"


@dataclass
class FilterOptions:
    """The values worth offering in a list's filter menus, from the visible entries."""

    tags: list[tuple[str, str]]
    regions: list[str]
    years: list[int]


SORTS = {"newest": "Newest event first", "oldest": "Oldest event first", "title": "Title A to Z"}

FilterMenu = tuple[str, str, list[tuple[str, str]], str]
"""A filter's query name, its label, its (value, text) choices, and the chosen value."""


def filter_menus(options: FilterOptions, filters: ListFilters) -> list[FilterMenu]:
    """The menus of a list page's filter form, each led by its "any" choice."""
    return [
        ("tag", "Tag", [("", "Any tag"), *options.tags], filters.tag),
        ("region", "Region", [("", "Any region"), *((r, r) for r in options.regions)], filters.region),
        ("year", "Year", [("", "Any year"), *((str(y), str(y)) for y in options.years)], str(filters.year or "")),
        ("sort", "Sort by", list(SORTS.items()), filters.sort),
    ]


def visible_entry(viewer: Viewer | None, slug: str) -> Entry | None:
    """The entry with this slug if the viewer may see it, else None (shown as 404)."""
    entry = db.session.scalar(select(Entry).where(Entry.slug == slug))
    return entry if entry is not None and can_view_entry(viewer, entry) else None


def merged_target(viewer: Viewer | None, slug: str) -> Entry | None:
    """The entry a merged duplicate with this slug now leads to; else None.

    Only for a viewer who may see the target and could have read the duplicate were it
    published, so a redirect never tells anyone of an entry they were never meant to see.
    """
    duplicate = db.session.scalar(select(Entry).where(Entry.slug == slug, Entry.status == EntryStatus.MERGED))
    target = duplicate.merged_into if duplicate is not None else None
    if duplicate is None or target is None or not can_view_if_published(viewer, duplicate):
        return None
    return target if can_view_entry(viewer, target) else None


def featured_entries(viewer: Viewer | None, limit: int = 4) -> list[Entry]:
    """Entries a moderator featured that the viewer may see, the most recently featured first."""
    query = (
        select(Entry)
        .where(Entry.featured_at.is_not(None), visible_entries(viewer))
        .order_by(Entry.featured_at.desc(), Entry.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query.options(selectinload(Entry.tags))))


def merged_from(viewer: Viewer | None, entry: Entry) -> list[tuple[Entry, list[Revision]]]:
    """Entries merged into `entry` that the viewer may see (staff), each with its revisions, newest first."""
    duplicates = db.session.scalars(
        select(Entry).where(Entry.merged_into_id == entry.id, visible_entries(viewer)).order_by(Entry.title)
    ).all()
    return [(duplicate, revisions_of(duplicate)) for duplicate in duplicates]


def _visible_ids(viewer: Viewer | None, kind: str | None = None) -> Select[int]:
    query = select(Entry.id).where(visible_entries(viewer))
    return query.where(Entry.kind == kind) if kind else query


def _ordered(query: Select[Entry], sort: str) -> Select[Entry]:
    if sort == "title":
        return query.order_by(Entry.title)
    if sort == "oldest":
        return query.order_by(Entry.event_date.asc().nulls_last(), Entry.title)
    return query.order_by(Entry.event_date.desc().nulls_last(), Entry.title)


def list_entries(viewer: Viewer | None, kind: str | None, filters: ListFilters, page: int, per_page: int) -> Page:
    """One page of visible entries (of one kind, or all), filtered and sorted."""
    model = MODEL_BY_KIND[kind] if kind else Entry
    query = select(model).where(visible_entries(viewer)).options(selectinload(model.tags))
    if filters.tag:
        query = query.where(Entry.tags.any(Tag.slug == filters.tag))
    if filters.region:
        query = query.where(Entry.region == filters.region)
    if filters.year:
        query = query.where(extract("year", Entry.event_date) == filters.year)
    return paginate(_ordered(query, filters.sort), page, per_page)


def filter_options(viewer: Viewer | None, kind: str) -> FilterOptions:
    """Tags, regions and years present among the visible entries of a kind."""
    ids = _visible_ids(viewer, kind)
    tags = db.session.execute(
        select(Tag.slug, Tag.label)
        .join(entry_tags, entry_tags.c.tag_id == Tag.id)
        .where(entry_tags.c.entry_id.in_(ids))
        .distinct()
        .order_by(Tag.label)
    ).all()
    regions = db.session.scalars(
        select(Entry.region).where(Entry.id.in_(ids), Entry.region.is_not(None)).distinct().order_by(Entry.region)
    ).all()
    year = extract("year", Entry.event_date)
    years = db.session.scalars(
        select(year).where(Entry.id.in_(ids), Entry.event_date.is_not(None)).distinct().order_by(year.desc())
    ).all()
    shown_regions = [region for region in regions if region is not None]
    return FilterOptions([(slug, label) for slug, label in tags], shown_regions, [int(y) for y in years])


@dataclass
class Backlink:
    """An entry that links to the one being shown, with every way it links."""

    source: Entry
    relations: list[str]


def backlinks(viewer: Viewer | None, entry: Entry) -> list[Backlink]:
    """Entries the viewer may see that link to `entry`, one row each, by kind then title."""
    rows = db.session.execute(
        select(EntryLink.relation, Entry)
        .join(Entry, Entry.id == EntryLink.source_id)
        .where(EntryLink.target_id == entry.id, visible_entries(viewer))
        .order_by(Entry.kind, Entry.title, EntryLink.relation)
    ).all()
    grouped: dict[int, Backlink] = {}
    for relation, source in rows:
        grouped.setdefault(source.id, Backlink(source, [])).relations.append(relation)
    for backlink in grouped.values():
        backlink.relations.sort(key=list(BACKLINK_RELATIONS).index)
    return list(grouped.values())


def related_entries(viewer: Viewer | None, entry: Entry) -> dict[str, list[Entry]]:
    """The entries this one names as its source and under see also, that the viewer may see."""
    rows = db.session.execute(
        select(EntryLink.relation, Entry)
        .join(Entry, Entry.id == EntryLink.target_id)
        .where(
            EntryLink.source_id == entry.id,
            EntryLink.relation.in_((LinkRelation.SOURCE, LinkRelation.SEE_ALSO)),
            visible_entries(viewer),
        )
        .order_by(EntryLink.position)
    ).all()
    related: dict[str, list[Entry]] = {"source": [], "see_also": []}
    for relation, target in rows:
        related[relation].append(target)
    return related


def recent_entries(viewer: Viewer | None, limit: int = 6, exclude_kind: str | None = None) -> list[Entry]:
    """The most recently updated visible entries, optionally leaving one kind out."""
    query = select(Entry).where(visible_entries(viewer)).order_by(Entry.updated_at.desc(), Entry.title).limit(limit)
    if exclude_kind:
        query = query.where(Entry.kind != exclude_kind)
    return list(db.session.scalars(query.options(selectinload(Entry.tags))))


def open_reviews(viewer: Viewer | None) -> list[Review]:
    """Visible reviews not yet published: commissioned, in progress or consulting."""
    query = select(Review).where(visible_entries(viewer), Review.review_status != ReviewStatus.PUBLISHED)
    return list(db.session.scalars(query.options(selectinload(Review.tags)).order_by(Review.title)))


def _counted_ids(viewer: Viewer | None) -> Select[int]:
    """The entries a count includes: published ones the viewer may see (a draft or submission is never counted)."""
    return _visible_ids(viewer).where(Entry.status == EntryStatus.PUBLISHED)


def kind_counts(viewer: Viewer | None) -> dict[str, int]:
    """How many published entries the viewer may see there are of each kind."""
    counted = select(Entry.kind, func.count()).where(visible_entries(viewer), Entry.status == EntryStatus.PUBLISHED)
    rows = db.session.execute(counted.group_by(Entry.kind))
    return {kind: count for kind, count in rows}


def theme_counts(viewer: Viewer | None) -> list[tuple[Theme, int]]:
    """Every theme with the number of published entries the viewer may see carrying one of its tags."""
    counts = dict(
        db.session.execute(
            select(Tag.theme_id, func.count(func.distinct(entry_tags.c.entry_id)))
            .join(entry_tags, entry_tags.c.tag_id == Tag.id)
            .where(entry_tags.c.entry_id.in_(_counted_ids(viewer)), Tag.theme_id.is_not(None))
            .group_by(Tag.theme_id)
        ).all()
    )
    themes = db.session.scalars(select(Theme).order_by(Theme.position, Theme.label))
    return [(theme, counts.get(theme.id, 0)) for theme in themes]


def tag_counts(viewer: Viewer | None, theme: Theme | None = None) -> list[tuple[Tag, int]]:
    """Tags (of one theme, or all) with their numbers of published entries the viewer may see; unused tags left out."""
    query = (
        select(Tag, func.count(entry_tags.c.entry_id))
        .join(entry_tags, entry_tags.c.tag_id == Tag.id)
        .where(entry_tags.c.entry_id.in_(_counted_ids(viewer)))
        .group_by(Tag.id)
        .order_by(Tag.label)
    )
    if theme is not None:
        query = query.where(Tag.theme_id == theme.id)
    return [(tag, count) for tag, count in db.session.execute(query).all()]


def entries_for_theme(viewer: Viewer | None, theme: Theme, page: int, per_page: int) -> Page:
    """Visible entries carrying any tag of a theme, newest event first."""
    query = (
        select(Entry)
        .where(visible_entries(viewer), Entry.tags.any(Tag.theme_id == theme.id))
        .options(selectinload(Entry.tags))
    )
    return paginate(_ordered(query, "newest"), page, per_page)


def find_theme(slug: str) -> Theme | None:
    """The theme with this slug."""
    return db.session.scalar(select(Theme).where(Theme.slug == slug))


def visible_tag(viewer: Viewer | None, slug: str) -> Tag | None:
    """The tag with this slug, if it is in the themes or carried by an entry the viewer may see.

    A free tag used only on hidden entries answers like a missing one, so its name stays hidden.
    """
    carried = select(entry_tags.c.tag_id).where(entry_tags.c.entry_id.in_(_visible_ids(viewer)))
    return db.session.scalar(select(Tag).where(Tag.slug == slug, Tag.theme_id.is_not(None) | Tag.id.in_(carried)))


def revision_count(entry: Entry) -> int:
    """How many revisions an entry has."""
    return db.session.scalar(select(func.count()).where(Revision.entry_id == entry.id)) or 0


def revisions_of(entry: Entry) -> list[Revision]:
    """An entry's revisions, newest first."""
    query = (
        select(Revision)
        .where(Revision.entry_id == entry.id)
        .order_by(Revision.number.desc())
        .options(selectinload(Revision.author).selectinload(User.organisation))
    )
    return list(db.session.scalars(query))


def revision_of(entry: Entry, number: int) -> Revision | None:
    """One revision of an entry by its number."""
    return db.session.scalar(select(Revision).where(Revision.entry_id == entry.id, Revision.number == number))
