"""Correcting a finding after it was published, with a dated note saying what was corrected and why.

A correction is a new revision of the finding (the wording before it stays in the
finding's history) and a `FindingCorrection` naming that revision; the finding stays
published. The review's panel and staff correct (`review.work`); the panel and the people
following the review are told, each only while they may read the finding. A correction
says which revision it was written from, and is refused when the finding has changed since
(another correction saved first), so no one's correction silently replaces another's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select

from kb.audit.service import record_event
from kb.dates import utcnow
from kb.entries.targets import targets_for
from kb.extensions import db
from kb.markdown import render
from kb.notifications.models import Follow
from kb.notifications.telling import tell
from kb.panels import queries
from kb.panels.cited_by import finding_path
from kb.panels.forms import NOTE_MAX
from kb.panels.merge import conflict_marker_line
from kb.panels.models import Finding, FindingCorrection, FindingRevision
from kb.panels.rendering import reader_end, render_saved
from kb.panels.service import MESSAGE_MAX, FindingConflictError, FindingError, FindingText, current_revision
from kb.permissions import can_view_finding, link_resolver, require
from kb.permissions_viewer import viewer_for
from kb.states import FindingStatus, FollowTarget, NotificationKind
from kb.users.models import User

if TYPE_CHECKING:
    from kb.entries.models import Review


def _check(finding: Finding, text: FindingText, note: str) -> None:
    """Raise `FindingError` unless this is a correction that can be saved."""
    if finding.status != FindingStatus.PUBLISHED:
        raise FindingError("Only a published finding is corrected; edit this one instead.")
    if not note:
        raise FindingError("Say what was corrected and why.")
    if len(note) > NOTE_MAX:
        raise FindingError(f"The note must be {NOTE_MAX:,} characters or fewer; it has {len(note):,}.")
    if not text.title:
        raise FindingError("Enter a title for the finding.")
    for label, value in (("The finding", text.body), ("The recommendations", text.recommendations)):
        line = conflict_marker_line(value)
        if line is not None:
            raise FindingError(f"{label}, line {line}, has a conflict marker line; delete it, then save again.")
    if text == FindingText.of(finding):
        raise FindingError("The text is the same as the published one: change what needs correcting.")


def correct_finding(
    finding: Finding, text: FindingText, note: str, *, actor: User, base_number: int | None
) -> FindingCorrection:
    """Save `text` as a correction of a published finding, with `note` (Markdown) saying what and why.

    `base_number` is the revision the corrector started from. Adds the finding's next
    revision and a `FindingCorrection`, records an audit event and tells the panel and the
    review's followers. Raises `PermissionDeniedError` unless the actor works on the
    review's panel (or is staff), `FindingConflictError` when `base_number` is not the
    current revision, and `FindingError` for a finding that is not published, a missing
    note or title, an unchanged text or a conflict marker.
    """
    require(actor, "review.work", finding.review)
    current = current_revision(finding)
    if current is not None and base_number != current.number:
        raise FindingConflictError(finding, queries.revision_of(finding, base_number), current)
    note = note.replace("\r\n", "\n").replace("\r", "\n").strip()
    _check(finding, text, note)
    now = utcnow()
    finding.title, finding.body, finding.recommendations = text.title, text.body, text.recommendations
    finding.revision_number += 1
    finding.updated_at = now
    revision = FindingRevision(
        finding=finding,
        number=finding.revision_number,
        title=text.title,
        body=text.body,
        recommendations=text.recommendations,
        message=f"Correction: {' '.join(note.split())}"[:MESSAGE_MAX],
        author=actor,
        created_at=now,
    )
    db.session.add(revision)
    render_saved(finding, revision, targets_for([text.body, text.recommendations]))
    resolve = link_resolver(reader_end(finding), targets_for([note]))
    correction = FindingCorrection(
        finding=finding,
        revision_number=finding.revision_number,
        note=note,
        note_html=render(note, resolve, anchor_prefix=f"f{finding.number}-correction-").html,
        author=actor,
        corrected_at=now,
    )
    db.session.add(correction)
    db.session.flush()
    label = f"finding {finding.number} of {finding.review.slug}"
    record_event("finding.correct", actor=actor, target=finding, target_label=label, new=f"revision {revision.number}")
    tell(
        told_of_correction(finding.review),
        kind=NotificationKind.CORRECTION,
        actor=actor,
        message=f'Finding {finding.number} of "{finding.review.title}" was corrected',
        link=finding_path(finding.review.slug, finding.number),
        finding=finding,
        paragraphs=[f"What was corrected and why: {' '.join(note.split())}"],
        may_hear=lambda person: can_view_finding(viewer_for(person), finding),
    )
    return correction


def told_of_correction(review: Review) -> list[User]:
    """Who hears of a correction: the review's panel and everyone following the review (as a review or an entry)."""
    followed = or_(
        and_(Follow.target_type == FollowTarget.REVIEW, Follow.target_id == review.id),
        and_(Follow.target_type == FollowTarget.ENTRY, Follow.target_id == review.id),
    )
    followers = list(db.session.scalars(select(User).join(Follow, Follow.user_id == User.id).where(followed)))
    return [*queries.panel_members(review), *followers]
