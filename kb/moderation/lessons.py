"""Moderating submissions: the queue, and publishing, returning or rejecting a lesson.

Each decision makes a revision (the stored document carries the new status), records an
audit event, notes when and why the status changed, and mails the author. Services
flush; the route commits once.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kb.audit.service import record_event
from kb.contributions.notices import tell_published, tell_rejected, tell_returned
from kb.contributions.service import ContributionError, current_document, mark_status, store_document
from kb.dates import utcnow
from kb.entries.models import Entry, Lesson, Review, Revision
from kb.entries.service import rerender_entries_linking_to
from kb.entries.vocabulary import STATUSES, VISIBILITIES
from kb.extensions import db
from kb.permissions import require, viewer_for, visible_entries
from kb.states import EntryStatus, Visibility
from kb.users.models import User

PUBLISHABLE_VISIBILITIES = ("public", "members", "panel")
REASON_IN_MESSAGE = 300


def submitted_lessons() -> list[Lesson]:
    """Lessons waiting for a moderator, the longest-waiting first, with their authors."""
    query = (
        select(Lesson)
        .where(Lesson.status == EntryStatus.SUBMITTED)
        .options(selectinload(Lesson.author).selectinload(User.organisation))
        .order_by(Lesson.status_changed_at.asc().nulls_first(), Lesson.created_at, Lesson.id)
    )
    return list(db.session.scalars(query))


def waiting_count() -> int:
    """How many entries wait for a moderator's decision."""
    return db.session.scalar(select(func.count(Entry.id)).where(Entry.status == EntryStatus.SUBMITTED)) or 0


def reviews_for_panels() -> list[Review]:
    """Reviews whose panel a lesson may be published to, by title."""
    return list(db.session.scalars(select(Review).order_by(Review.title)))


def contributions_of(user: User) -> list[Entry]:
    """The entries `user` wrote, most recently changed first."""
    query = (
        select(Entry)
        .where(Entry.author_id == user.id, visible_entries(viewer_for(user)))
        .order_by(Entry.updated_at.desc(), Entry.id.desc())
    )
    return list(db.session.scalars(query))


def _check_waiting(entry: Entry) -> None:
    if entry.status != EntryStatus.SUBMITTED:
        raise ContributionError(
            f'"{entry.title}" is not waiting for a decision: it is {STATUSES[entry.status].lower()}.'
        )


def _reason_message(verb: str, reason: str) -> str:
    short = reason if len(reason) <= REASON_IN_MESSAGE else reason[: REASON_IN_MESSAGE - 1] + "…"
    return f"{verb}: {short}"


def publish_entry(entry: Entry, *, actor: User, visibility: str, review: Review | None = None) -> Revision:
    """Publish a submitted entry for `visibility` (`panel` needs the `review` whose panel reads it).

    Sets `published_at`, clears the status note, renders links to the entry again, and
    mails the author. Raises PermissionDeniedError, ContributionError.
    """
    require(actor, "entry.moderate", entry)
    _check_waiting(entry)
    if visibility not in PUBLISHABLE_VISIBILITIES:
        raise ContributionError(f"Choose who may read it: {', '.join(PUBLISHABLE_VISIBILITIES)}.")
    if visibility == Visibility.PANEL and review is None:
        raise ContributionError("Choose the review whose panel may read it.")
    _, document = current_document(entry)
    old_visibility = entry.visibility
    document.status = "published"
    document.visibility = visibility
    if review is not None:
        document.review = review.slug
    _, revision = store_document(
        document, entry, actor=actor, message=f"Published for {VISIBILITIES[visibility].lower()}"
    )
    entry.published_at = entry.published_at or utcnow()
    mark_status(entry, None)
    record_event("entry.publish", actor=actor, target=entry, old="submitted", new="published")
    if old_visibility != visibility:
        record_event("entry.visibility", actor=actor, target=entry, old=old_visibility, new=visibility)
    rerender_entries_linking_to([entry])
    tell_published(entry, actor=actor)
    db.session.flush()
    return revision


def _decline(entry: Entry, *, actor: User, reason: str, status: str, verb: str) -> Revision:
    require(actor, "entry.moderate", entry)
    _check_waiting(entry)
    reason = reason.strip()
    if not reason:
        raise ContributionError("Give a reason; the author will see it.")
    _, document = current_document(entry)
    document.status = status
    _, revision = store_document(document, entry, actor=actor, message=_reason_message(verb, reason))
    mark_status(entry, reason)
    return revision


def return_entry(entry: Entry, *, actor: User, reason: str) -> Revision:
    """Send a submitted entry back to its author to change, with the reason; mails the author.

    Raises PermissionDeniedError, ContributionError (no reason, or not submitted).
    """
    revision = _decline(entry, actor=actor, reason=reason, status="returned", verb="Returned to author")
    record_event("entry.return", actor=actor, target=entry, old="submitted", new=f"returned: {entry.status_note}")
    tell_returned(entry, actor=actor, reason=entry.status_note or "")
    db.session.flush()
    return revision


def reject_entry(entry: Entry, *, actor: User, reason: str) -> Revision:
    """Decide not to publish a submitted entry, with the reason; mails the author.

    Raises PermissionDeniedError, ContributionError (no reason, or not submitted).
    """
    revision = _decline(entry, actor=actor, reason=reason, status="rejected", verb="Rejected")
    record_event("entry.reject", actor=actor, target=entry, old="submitted", new=f"rejected: {entry.status_note}")
    tell_rejected(entry, actor=actor, reason=entry.status_note or "")
    db.session.flush()
    return revision
