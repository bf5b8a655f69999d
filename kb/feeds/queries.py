"""What each feed holds, read through the visibility rule: published entries, a review's findings and consultations.

A feed lists only published things the reader may see (`visible_entries`,
`visible_findings`, `visible_consultations`), the most recently changed first, at most
`FEED_SIZE` of each kind. Finding the feed's subject (a theme, a tag, a review) follows
the same rules as its page, so a feed answers 404 exactly where its page does.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, or_, select

from kb.consultations.models import Consultation
from kb.entries import queries as entry_queries
from kb.entries.models import Entry, Review
from kb.extensions import db
from kb.panels.models import Finding
from kb.permissions import Viewer, visible_consultations, visible_entries, visible_findings
from kb.states import EntryKind, EntryStatus, FindingStatus
from kb.taxonomy.models import Tag, Theme

FEED_SIZE = 50
"""The most items a feed holds."""


def _published(viewer: Viewer) -> ColumnElement[bool]:
    return and_(Entry.status == EntryStatus.PUBLISHED, visible_entries(viewer))


def _newest(query: Select[Entry]) -> list[Entry]:
    ordered = query.order_by(Entry.updated_at.desc(), Entry.id.desc()).limit(FEED_SIZE)
    return list(db.session.scalars(ordered))


def latest_entries(viewer: Viewer, kind: EntryKind | None = None) -> list[Entry]:
    """The published entries `viewer` may see (of `kind` if given), most recently changed first."""
    query = select(Entry).where(_published(viewer))
    return _newest(query.where(Entry.kind == kind) if kind is not None else query)


def theme_entries(viewer: Viewer, theme: Theme) -> list[Entry]:
    """The published entries `viewer` may see that carry a tag of `theme`, most recently changed first."""
    return _newest(select(Entry).where(_published(viewer), Entry.tags.any(Tag.theme_id == theme.id)))


def tag_entries(viewer: Viewer, tag: Tag) -> list[Entry]:
    """The published entries `viewer` may see that carry `tag`, most recently changed first."""
    return _newest(select(Entry).where(_published(viewer), Entry.tags.any(Tag.id == tag.id)))


def find_theme(slug: str) -> Theme | None:
    """The theme with this slug (every theme is public, as its page is)."""
    return entry_queries.find_theme(slug)


def find_tag(viewer: Viewer, slug: str) -> Tag | None:
    """The tag with this slug if its page exists for `viewer`: in the themes, or carried by an entry they may see."""
    return entry_queries.visible_tag(viewer, slug)


def find_review(viewer: Viewer, slug: str) -> Review | None:
    """The review with this slug if `viewer` may see it; None for anything else (answered 404)."""
    found = entry_queries.visible_entry(viewer, slug)
    return found if isinstance(found, Review) else None


def review_papers(viewer: Viewer, review: Review) -> list[Entry]:
    """The published papers of `review` that `viewer` may see, most recently changed first."""
    query = select(Entry).where(_published(viewer), Entry.kind == EntryKind.PAPER, Entry.review_id == review.id)
    return _newest(query)


def review_findings(viewer: Viewer, review: Review) -> list[Finding]:
    """The published findings of `review` that `viewer` may read, most recently changed first."""
    query = (
        select(Finding)
        .where(Finding.review_id == review.id, Finding.status == FindingStatus.PUBLISHED, visible_findings(viewer))
        .order_by(Finding.updated_at.desc(), Finding.id.desc())
        .limit(FEED_SIZE)
    )
    return list(db.session.scalars(query))


def review_consultations(viewer: Viewer, review: Review) -> list[Consultation]:
    """The consultations on `review` or on one of its papers that `viewer` may see, latest made first."""
    consulted = select(Entry.id).where(or_(Entry.id == review.id, Entry.review_id == review.id))
    query = (
        select(Consultation)
        .where(Consultation.entry_id.in_(consulted), visible_consultations(viewer))
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .limit(FEED_SIZE)
    )
    return list(db.session.scalars(query))
