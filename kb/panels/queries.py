"""Read-side queries for a review's workspace and findings.

Findings are always read through `permissions.visible_findings` (or checked with
`can_view_finding`), and entries through `visible_entries`, so nothing a viewer may not
see is listed, counted or linked.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kb.entries.models import Entry, Review
from kb.extensions import db
from kb.panels.models import Citation, Finding, FindingRevision
from kb.permissions import Viewer, can, can_view_entry, visible_entries, visible_findings
from kb.states import EntryKind
from kb.users.models import PanelMembership, User


def visible_review(viewer: Viewer, slug: str) -> Review | None:
    """The review with this slug if `viewer` may see it, else None."""
    review = db.session.scalar(select(Review).where(Review.slug == slug))
    return review if review is not None and can_view_entry(viewer, review) else None


def workspace_review(viewer: Viewer, slug: str) -> Review | None:
    """The review with this slug if `viewer` may work in its workspace (its panel and staff), else None."""
    review = visible_review(viewer, slug)
    return review if review is not None and can(viewer, "review.work", review) else None


def panel_members(review: Review) -> list[User]:
    """The active people with a seat on the review's panel, by name, their organisations loaded."""
    query = (
        select(User)
        .join(PanelMembership, PanelMembership.user_id == User.id)
        .where(PanelMembership.review_id == review.id, User.active.is_(True))
        .options(selectinload(User.organisation))
        .order_by(User.display_name, User.id)
    )
    return list(db.session.scalars(query))


def review_entries(viewer: Viewer, review: Review) -> list[Entry]:
    """The papers and lessons of the review's work that `viewer` may see, papers first, then by title."""
    query = (
        select(Entry)
        .where(Entry.review_id == review.id, Entry.kind != EntryKind.REVIEW, visible_entries(viewer))
        .order_by(Entry.kind.desc(), Entry.title)
    )
    return list(db.session.scalars(query))


def findings_of(
    viewer: Viewer, review: Review, *, status: str | None = None, with_holders: bool = False
) -> list[Finding]:
    """The review's findings `viewer` may read, by number; only those with `status` if given.

    `with_holders` loads who holds each finding's pen in the same round of queries.
    """
    query = select(Finding).where(Finding.review_id == review.id, visible_findings(viewer))
    if with_holders:
        query = query.options(selectinload(Finding.holder), selectinload(Finding.agreement_proposed_by))
    if status is not None:
        query = query.where(Finding.status == status)
    return list(db.session.scalars(query.order_by(Finding.number)))


def citation_counts(finding_ids: list[int]) -> dict[int, int]:
    """How many citations each finding has, in one query."""
    if not finding_ids:
        return {}
    query = (
        select(Citation.finding_id, func.count(Citation.id))
        .where(Citation.finding_id.in_(finding_ids))
        .group_by(Citation.finding_id)
    )
    return {finding_id: count for finding_id, count in db.session.execute(query)}


def status_counts(viewer: Viewer, review: Review) -> dict[str, int]:
    """How many of the review's findings `viewer` may read are in each status."""
    query = (
        select(Finding.status, func.count(Finding.id))
        .where(Finding.review_id == review.id, visible_findings(viewer))
        .group_by(Finding.status)
    )
    return {status: count for status, count in db.session.execute(query)}


def visible_finding(viewer: Viewer, review: Review, number: int) -> Finding | None:
    """Finding `number` of `review` if `viewer` may read it, else None."""
    query = select(Finding).where(Finding.review_id == review.id, Finding.number == number, visible_findings(viewer))
    return db.session.scalar(query)


def next_number(review: Review) -> int:
    """The next free finding number of the review: one more than the highest so far."""
    highest = db.session.scalar(select(func.max(Finding.number)).where(Finding.review_id == review.id))
    return (highest or 0) + 1


def revisions_of(finding: Finding) -> list[FindingRevision]:
    """Every revision of a finding, newest first, with their authors."""
    query = (
        select(FindingRevision)
        .where(FindingRevision.finding_id == finding.id)
        .options(selectinload(FindingRevision.author))
        .order_by(FindingRevision.number.desc())
    )
    return list(db.session.scalars(query))


def revision_of(finding: Finding, number: int | None) -> FindingRevision | None:
    """Revision `number` of the finding, or None."""
    if number is None:
        return None
    query = select(FindingRevision).where(FindingRevision.finding_id == finding.id, FindingRevision.number == number)
    return db.session.scalar(query)
