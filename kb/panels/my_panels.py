"""The "My panels" page's rows: the reviews a person works on, with their findings and open consultations counted.

A panel member sees the reviews they have a seat on. Staff see every review that has a
panel or findings, each marked whether they sit on its panel themselves. The counts go
through the visibility rule and take three queries whatever the number of reviews.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, or_, select

from kb.consultations.models import Consultation
from kb.dates import utcnow
from kb.entries.models import Entry, Review
from kb.extensions import db
from kb.panels.models import Finding
from kb.permissions import Viewer, visible_consultations, visible_entries, visible_findings
from kb.states import EntryKind
from kb.users.models import PanelMembership


@dataclass
class PanelRow:
    """One review on the page: its findings by status, its open consultations, and whether the viewer sits on it."""

    review: Review
    seated: bool
    findings: dict[str, int] = field(default_factory=dict)
    open_consultations: int = 0

    @property
    def total_findings(self) -> int:
        """Every finding of the review the viewer may read."""
        return sum(self.findings.values())


def _reviews(viewer: Viewer) -> list[Review]:
    """The reviews listed for `viewer`: their seats', or for staff every review with a panel or findings."""
    query = select(Review).where(visible_entries(viewer))
    if viewer.is_staff:
        with_panel = select(PanelMembership.review_id)
        with_findings = select(Finding.review_id)
        query = query.where(or_(Review.id.in_(with_panel), Review.id.in_(with_findings)))
    else:
        query = query.where(Review.id.in_(sorted(viewer.panel_review_ids)))
    return list(db.session.scalars(query.order_by(Review.title, Review.id)))


def _finding_counts(viewer: Viewer, review_ids: list[int]) -> dict[int, dict[str, int]]:
    query = (
        select(Finding.review_id, Finding.status, func.count(Finding.id))
        .where(Finding.review_id.in_(review_ids), visible_findings(viewer))
        .group_by(Finding.review_id, Finding.status)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for review_id, status, number in db.session.execute(query):
        counts[review_id][status] = number
    return counts


def _open_consultation_counts(viewer: Viewer, review_ids: list[int]) -> dict[int, int]:
    """Open consultations on each review (and so its findings) or on one of its entries."""
    review_of = case((Entry.kind == EntryKind.REVIEW, Entry.id), else_=Entry.review_id)
    now = utcnow()
    query = (
        select(review_of, func.count(Consultation.id))
        .join(Entry, Entry.id == Consultation.entry_id)
        .where(
            or_(Entry.id.in_(review_ids), Entry.review_id.in_(review_ids)),
            Consultation.opens_at <= now,
            Consultation.closes_at > now,
            visible_consultations(viewer),
        )
        .group_by(review_of)
    )
    return {review_id: number for review_id, number in db.session.execute(query)}


def panel_rows(viewer: Viewer) -> list[PanelRow]:
    """The rows of `viewer`'s "My panels" page, by review title; empty for someone with no seat who is not staff."""
    if not viewer.is_authenticated or not (viewer.is_staff or viewer.panel_review_ids):
        return []
    reviews = _reviews(viewer)
    ids = [review.id for review in reviews]
    findings = _finding_counts(viewer, ids) if ids else {}
    consultations = _open_consultation_counts(viewer, ids) if ids else {}
    return [
        PanelRow(
            review,
            seated=review.id in viewer.panel_review_ids,
            findings=findings.get(review.id, {}),
            open_consultations=consultations.get(review.id, 0),
        )
        for review in reviews
    ]
