"""What the workspace shows around the findings: the review's entries and documents, consultations, actions, activity.

Every read goes through the visibility rule (`kb.permissions`): entries through
`visible_entries`, findings through `visible_findings`, consultations through
`visible_consultations`, comments through `readable_comments`. Each part is one or two
queries whatever the number of rows, so the page costs the same with ten findings as
with one. Nothing here changes anything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import selectinload

from kb.actions import rules
from kb.actions.queries import action_state, london_today, open_actions_query
from kb.comments.models import Comment
from kb.consultations.models import Consultation
from kb.consultations.windows import state_at
from kb.dates import utcnow
from kb.documents.models import Document
from kb.entries.models import Entry, Lesson, Review
from kb.extensions import db
from kb.panels import queries
from kb.panels.models import Finding, FindingRevision
from kb.permissions import Viewer, can, readable_comments, visible_consultations, visible_findings
from kb.states import EntryStatus, Visibility
from kb.users.models import Organisation, User

ACTIVITY_SHOWN = 10
"""How many recent events the workspace lists."""
OPEN_ACTIONS_SHOWN = 50
"""At most this many open actions are listed; `/actions` has them all."""


def panel_only(entry: Entry) -> bool:
    """Whether `entry` is hidden from members and the public: panel-only or draft visibility, or not published."""
    return entry.status != EntryStatus.PUBLISHED or entry.visibility not in (Visibility.PUBLIC, Visibility.MEMBERS)


@dataclass
class HubEntry:
    """A paper or lesson of the review (or the review itself) with its current documents."""

    entry: Entry
    documents: list[Document] = field(default_factory=list)

    @property
    def panel_only(self) -> bool:
        """Whether members and the public cannot see the entry, and so its documents."""
        return panel_only(self.entry)


def _current_documents(entry_ids: list[int]) -> dict[int, list[Document]]:
    """The documents attached now to each of the entries, in their listed order, in one query."""
    query = (
        select(Document)
        .where(Document.entry_id.in_(entry_ids), Document.replaced_by_id.is_(None), Document.removed_at.is_(None))
        .order_by(Document.entry_id, Document.position, Document.id)
    )
    grouped: dict[int, list[Document]] = defaultdict(list)
    for document in db.session.scalars(query):
        grouped[document.entry_id].append(document)
    return grouped


def review_material(viewer: Viewer, review: Review) -> tuple[HubEntry, list[HubEntry]]:
    """The review with its documents, and the papers and lessons of its work `viewer` may see with theirs.

    Papers come first, then lessons, each by title.
    """
    entries = queries.review_entries(viewer, review)
    documents = _current_documents([review.id, *(entry.id for entry in entries)])
    return HubEntry(review, documents.get(review.id, [])), [
        HubEntry(entry, documents.get(entry.id, [])) for entry in entries
    ]


def organisations_of(members: list[User]) -> list[Organisation]:
    """The organisations the panel's members come from, each once, by name."""
    found = {member.organisation.id: member.organisation for member in members if member.organisation is not None}
    return sorted(found.values(), key=lambda organisation: organisation.name)


@dataclass(frozen=True)
class HubConsultation:
    """A consultation on the review or one of its entries, with its state now."""

    consultation: Consultation
    state: str


def review_consultation_condition(review_ids: list[int]) -> ColumnElement[bool]:
    """SQL condition on `Consultation`: those on one of the reviews (and so its findings) or on their entries."""
    on_entries = select(Entry.id).where(or_(Entry.id.in_(review_ids), Entry.review_id.in_(review_ids)))
    return Consultation.entry_id.in_(on_entries)


def review_consultations(viewer: Viewer, review: Review) -> list[HubConsultation]:
    """Consultations on the review, its findings and its entries that `viewer` may read, latest opening first."""
    query = (
        select(Consultation)
        .where(review_consultation_condition([review.id]), visible_consultations(viewer))
        .options(selectinload(Consultation.entry))
        .order_by(Consultation.opens_at.desc(), Consultation.id.desc())
    )
    now = utcnow()
    return [HubConsultation(item, state_at(item.opens_at, item.closes_at, now)) for item in db.session.scalars(query)]


@dataclass(frozen=True)
class HubAction:
    """An open action on one of the review's lessons."""

    lesson: Lesson
    status_label: str
    overdue: bool


def open_review_actions(viewer: Viewer, review: Review) -> list[HubAction]:
    """Open actions of the review's published lessons that `viewer` may read, overdue and soonest due first."""
    query = open_actions_query(viewer).where(Entry.review_id == review.id).limit(OPEN_ACTIONS_SHOWN)
    today = london_today()
    return [
        HubAction(lesson, rules.label(lesson.action_status), rules.is_overdue(action_state(lesson), today))
        for lesson in db.session.scalars(query)
    ]


@dataclass(frozen=True)
class Activity:
    """One recent event on a finding: who did what, and when."""

    at: dt.datetime
    who: User | None
    what: str
    finding: Finding


def _revisions(viewer: Viewer, review: Review) -> list[Activity]:
    query = (
        select(FindingRevision)
        .join(Finding, Finding.id == FindingRevision.finding_id)
        .where(Finding.review_id == review.id, visible_findings(viewer))
        .options(selectinload(FindingRevision.author), selectinload(FindingRevision.finding))
        .order_by(FindingRevision.created_at.desc(), FindingRevision.id.desc())
        .limit(ACTIVITY_SHOWN)
    )
    return [
        Activity(
            revision.created_at,
            revision.author,
            "drafted" if revision.number == 1 else f"saved revision {revision.number} of",
            revision.finding,
        )
        for revision in db.session.scalars(query)
    ]


def _agreements(viewer: Viewer, review: Review) -> list[Activity]:
    query = (
        select(Finding)
        .where(Finding.review_id == review.id, Finding.agreed_at.is_not(None), visible_findings(viewer))
        .options(selectinload(Finding.agreed_by))
        .order_by(Finding.agreed_at.desc(), Finding.id.desc())
        .limit(ACTIVITY_SHOWN)
    )
    return [
        Activity(found.agreed_at or found.updated_at, found.agreed_by, "agreed", found)
        for found in db.session.scalars(query)
    ]


def _comments(viewer: Viewer, review: Review) -> list[Activity]:
    # A finding's discussion is the panel's: read only by those who work on the review.
    if not can(viewer, "review.work", review):
        return []
    query = (
        select(Comment, Finding)
        .join(Finding, Finding.id == Comment.finding_id)
        .where(Finding.review_id == review.id, visible_findings(viewer), readable_comments(viewer))
        .options(selectinload(Comment.author))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(ACTIVITY_SHOWN)
    )
    return [
        Activity(comment.created_at, comment.author, "commented on", found)
        for comment, found in db.session.execute(query).all()
    ]


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive UTC times; make every time comparable."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def recent_activity(viewer: Viewer, review: Review) -> list[Activity]:
    """The latest revisions, agreements and comments on the review's findings `viewer` may read, newest first."""
    events = [*_revisions(viewer, review), *_agreements(viewer, review), *_comments(viewer, review)]
    events.sort(key=lambda event: _utc(event.at), reverse=True)
    return events[:ACTIVITY_SHOWN]


@dataclass
class WorkspaceHub:
    """Everything the workspace shows besides its findings table."""

    members: list[User]
    organisations: list[Organisation]
    review: HubEntry
    entries: list[HubEntry]
    consultations: list[HubConsultation]
    actions: list[HubAction]
    activity: list[Activity]


def workspace_hub(viewer: Viewer, review: Review) -> WorkspaceHub:
    """The panel, the review's material, consultations, open actions and recent activity, as `viewer` may see them."""
    members = queries.panel_members(review)
    review_item, entries = review_material(viewer, review)
    return WorkspaceHub(
        members=members,
        organisations=organisations_of(members),
        review=review_item,
        entries=entries,
        consultations=review_consultations(viewer, review),
        actions=open_review_actions(viewer, review),
        activity=recent_activity(viewer, review),
    )
