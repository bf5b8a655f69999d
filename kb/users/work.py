"""Reading one person's own work for "Your work": drafts, responses, lessons, findings and actions.

Every list holds only the signed-in person's own things, and every read goes through the
visibility rule (`kb.permissions`): a lesson, finding or consultation they may no longer
read is left out. Each section is a query, so the page can show its first few and a
"see all" page can paginate the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from kb.actions.queries import open_actions_query
from kb.consultations.models import Consultation, Response
from kb.dates import utcnow
from kb.drafts.keeping import with_draft
from kb.drafts.models import FORM_DRAFT_MAX_AGE, FormDraft
from kb.entries.models import Entry
from kb.extensions import db
from kb.pagination import Page, paginate
from kb.panels.cited_by import finding_path, report_path
from kb.panels.models import Finding
from kb.permissions import Viewer, visible_consultations, visible_entries, visible_findings
from kb.states import EntryStatus, ResponseStatus
from kb.users.models import User

SHOWN = 5
"""How many of each list the page shows before "see all"."""
PER_PAGE = 25
"""How many a "see all" page shows at once."""
IN_PROGRESS = (EntryStatus.DRAFT, EntryStatus.RETURNED)
"""Entry statuses that are still the author's to finish."""
SECTIONS: dict[str, str] = {
    "draft-lessons": "Lessons you have not submitted",
    "draft-responses": "Consultation answers you have not submitted",
    "forms": "Forms you were filling in",
    "responses": "Your consultation responses",
    "lessons": "Everything you have written",
    "findings": "Findings you wrote or hold",
    "actions": "Actions your organisation owns",
}
"""Each list of the page, by the name its "see all" address uses, with its heading."""


@dataclass(frozen=True)
class Section:
    """One list of the page: its first items (or one page of them) and how many there are in all."""

    key: str
    heading: str
    items: list[Any]
    total: int


def _draft_lessons(user: User, viewer: Viewer) -> Select[Any]:
    return (
        select(Entry)
        .where(Entry.author_id == user.id, Entry.status.in_(IN_PROGRESS), visible_entries(viewer))
        .order_by(Entry.updated_at.desc(), Entry.id.desc())
    )


def _responses(user: User, viewer: Viewer, status: str) -> Select[Any]:
    readable = select(Consultation.id).where(visible_consultations(viewer))
    order = Response.submitted_at if status == ResponseStatus.SUBMITTED else Response.updated_at
    return (
        select(Response)
        .where(Response.user_id == user.id, Response.status == status, Response.consultation_id.in_(readable))
        .options(
            selectinload(Response.consultation).selectinload(Consultation.questions),
            selectinload(Response.answers),
        )
        .order_by(order.desc(), Response.id.desc())
    )


def _forms(user: User, viewer: Viewer) -> Select[Any]:
    return (
        select(FormDraft)
        .where(FormDraft.owner_id == user.id, FormDraft.updated_at >= utcnow() - FORM_DRAFT_MAX_AGE)
        .order_by(FormDraft.updated_at.desc(), FormDraft.id.desc())
    )


def _lessons(user: User, viewer: Viewer) -> Select[Any]:
    return (
        select(Entry)
        .where(Entry.author_id == user.id, visible_entries(viewer))
        .order_by(Entry.updated_at.desc(), Entry.id.desc())
    )


def _findings(user: User, viewer: Viewer) -> Select[Any]:
    return (
        select(Finding)
        .where(or_(Finding.created_by_id == user.id, Finding.holder_id == user.id), visible_findings(viewer))
        .options(selectinload(Finding.review))
        .order_by(Finding.updated_at.desc(), Finding.id.desc())
    )


def _actions(user: User, viewer: Viewer) -> Select[Any]:
    if user.organisation is None:
        return select(Entry).where(Entry.id.is_(None))
    return open_actions_query(viewer, owner=user.organisation.name)


QUERIES = {
    "draft-lessons": _draft_lessons,
    "draft-responses": lambda user, viewer: _responses(user, viewer, ResponseStatus.DRAFT),
    "forms": _forms,
    "responses": lambda user, viewer: _responses(user, viewer, ResponseStatus.SUBMITTED),
    "lessons": _lessons,
    "findings": _findings,
    "actions": _actions,
}


def _count(query: Select[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def sections(user: User, viewer: Viewer) -> list[Section]:
    """Every list of the page, each with its first `SHOWN` items and its full count."""
    found = []
    for key, heading in SECTIONS.items():
        query = QUERIES[key](user, viewer)
        found.append(Section(key, heading, list(db.session.scalars(query.limit(SHOWN))), _count(query)))
    return found


def one_section(user: User, viewer: Viewer, key: str, page: int) -> tuple[Section, Page]:
    """One list in full, a page at a time; raises KeyError for a list that does not exist."""
    listed = paginate(QUERIES[key](user, viewer), page, PER_PAGE)
    return Section(key, SECTIONS[key], listed.items, listed.total), listed


def finding_link(viewer: Viewer, finding: Finding) -> str:
    """Where the person reads a finding: its workspace page on their panel (or as staff), else the report."""
    review = finding.review
    on_panel = viewer.is_staff or review.id in viewer.panel_review_ids
    return finding_path(review.slug, finding.number) if on_panel else report_path(review.slug, finding.number)


def form_link(draft: FormDraft) -> str:
    """The address that brings a kept form draft back into its form."""
    return with_draft(draft.path, draft.token)
