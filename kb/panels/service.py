"""Drafting, agreeing and publishing a review's findings.

Every verb checks the actor's right through `kb.permissions.require` (`review.work`:
the review's panel and staff), changes the models, records an audit event and flushes;
the route commits once. Every save of a finding is a `FindingRevision`; a save based on
a revision that is no longer the current one raises `FindingConflictError` instead of
overwriting, so the route can show the merge view. Refusals a person can act on raise
`FindingError` with a message that says what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.audit.service import record_event
from kb.dates import utcnow
from kb.entries.models import Review
from kb.entries.targets import targets_for
from kb.errors import ConflictError, InvalidInputError
from kb.extensions import db
from kb.moderation.revisions import save_entry_state
from kb.panels import queries, telling
from kb.panels.merge import conflict_marker_line
from kb.panels.models import Finding, FindingRevision
from kb.panels.rendering import render_saved, renumbered_texts, rerender_finding
from kb.permissions import require
from kb.states import FindingStatus, ReviewStatus

if TYPE_CHECKING:
    from kb.users.models import User

MESSAGE_MAX = 500


class FindingError(InvalidInputError):
    """A change to a finding that cannot be made as asked; the message says why."""


class FindingConflictError(ConflictError):
    """The finding was saved by someone else after the editor opened it.

    `base` is the revision the editor started from (None when the form did not say or
    names no revision), `current` the one saved since.
    """

    def __init__(self, finding: Finding, base: FindingRevision | None, current: FindingRevision) -> None:
        super().__init__(
            f"finding {finding.number} is at revision {current.number}, not {base.number if base else '?'}"
        )
        self.finding = finding
        self.base = base
        self.current = current


@dataclass(frozen=True)
class FindingText:
    """What a person writes for a finding: a one-line title and two Markdown texts."""

    title: str
    body: str
    recommendations: str

    @classmethod
    def of(cls, finding: Finding | FindingRevision) -> FindingText:
        """The text of a saved finding or revision."""
        return cls(finding.title, finding.body, finding.recommendations)


def clean(title: str | None, body: str | None, recommendations: str | None) -> FindingText:
    """Form input as a `FindingText`: one kind of line ending, the title on one line, no blank space around."""

    def text(value: str | None) -> str:
        return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()

    return FindingText(" ".join((title or "").split()), text(body), text(recommendations))


def _check(text: FindingText) -> None:
    if not text.title:
        raise FindingError("Enter a title for the finding.")
    for label, value in (("The finding", text.body), ("The recommendations", text.recommendations)):
        line = conflict_marker_line(value)
        if line is not None:
            raise FindingError(
                f"{label}, line {line}, still has a conflict marker. Choose between the two versions "
                "(or combine them), delete the marker lines, then save again."
            )


def _add_revision(finding: Finding, text: FindingText, *, actor: User | None, message: str) -> FindingRevision:
    revision = FindingRevision(
        finding=finding,
        number=finding.revision_number,
        title=text.title,
        body=text.body,
        recommendations=text.recommendations,
        message=message.strip()[:MESSAGE_MAX],
        author=actor,
        created_at=finding.updated_at,
    )
    db.session.add(revision)
    return revision


def create_finding(review: Review, text: FindingText, *, actor: User, message: str = "") -> Finding:
    """Draft a new finding of `review`, numbered after the last one, with its first revision.

    The panel is told. Raises `PermissionDeniedError` unless the actor works on the review's
    panel (or is staff), `FindingError` for a missing title or text with conflict markers.
    """
    require(actor, "review.work", review)
    _check(text)
    now = utcnow()
    finding = Finding(
        review=review,
        number=queries.next_number(review),
        title=text.title,
        body=text.body,
        recommendations=text.recommendations,
        status="draft",
        revision_number=1,
        created_by=actor,
        holder=actor,
        created_at=now,
        updated_at=now,
    )
    db.session.add(finding)
    revision = _add_revision(finding, text, actor=actor, message=message or "First draft")
    render_saved(finding, revision, targets_for([text.body, text.recommendations]))
    record_event("finding.create", actor=actor, target=finding, target_label=_label(finding), new=text.title)
    db.session.flush()
    telling.finding_drafted(finding, actor=actor)
    return finding


def _label(finding: Finding) -> str:
    return f"finding {finding.number} of {finding.review.slug}"


def current_revision(finding: Finding) -> FindingRevision | None:
    """The finding's current revision."""
    return queries.revision_of(finding, finding.revision_number)


def edit_finding(
    finding: Finding, text: FindingText, *, actor: User, base_number: int | None, message: str = ""
) -> FindingRevision | None:
    """Save `text` as the finding's next revision, if the editor started from the current one.

    Returns the new revision, or None when nothing changed. Any save clears a pending
    proposal to agree, and an agreed finding goes back to draft (its proposer and agreer are told). Raises
    `PermissionDeniedError` unless the actor works on the review's panel,
    `FindingConflictError` when `base_number` is not the current revision, and
    `FindingError` for a published finding, a missing title or a leftover conflict marker.
    """
    require(actor, "review.work", finding.review)
    if finding.status == FindingStatus.PUBLISHED:
        raise FindingError("This finding is published with the review's report, so it is no longer edited.")
    current = current_revision(finding)
    if current is not None and base_number != current.number:
        raise FindingConflictError(finding, queries.revision_of(finding, base_number), current)
    _check(text)
    if text == FindingText.of(finding):
        return None
    old_state = f"revision {finding.revision_number}, {finding.status}"
    finding.title, finding.body, finding.recommendations = text.title, text.body, text.recommendations
    finding.revision_number += 1
    finding.updated_at = utcnow()
    reopen_agreement(finding, actor=actor, why=telling.TEXT_EDITED)
    revision = _add_revision(finding, text, actor=actor, message=message)
    render_saved(finding, revision, targets_for([text.body, text.recommendations]))
    record_event(
        "finding.edit",
        actor=actor,
        target=finding,
        target_label=_label(finding),
        old=old_state,
        new=f"revision {finding.revision_number}, {finding.status}",
    )
    return revision


def renumber_notes(
    finding: Finding, new_numbers: Mapping[int, int | None], *, actor: User | None, message: str
) -> FindingRevision | None:
    """Keep the finding's note markers on their citations after the citations' numbers changed.

    `new_numbers` maps each old note number to its new one (None for a citation removed).
    When a marker changes, the text is saved as the next revision with `message` and rendered
    again, and the revision is returned; otherwise nothing is saved and None is returned.
    The caller has checked the actor's right and reopens agreement.
    """
    body, recommendations = renumbered_texts(finding, new_numbers)
    if (body, recommendations) == (finding.body, finding.recommendations):
        return None
    finding.body, finding.recommendations = body, recommendations
    finding.revision_number += 1
    finding.updated_at = utcnow()
    revision = _add_revision(finding, FindingText.of(finding), actor=actor, message=message)
    render_saved(finding, revision, targets_for([body, recommendations]))
    return revision


def reopen_agreement(finding: Finding, *, actor: User | None = None, why: str | None = None) -> bool:
    """Clear a pending proposal to agree and return an agreed finding to draft: what was agreed has changed.

    Called for every change to a finding's text or citations; returns whether anything was cleared.
    With `why` (a reason of `kb.panels.telling`), the member who agreed and the one who proposed
    are told that `actor` withdrew the agreement, and why.
    """
    cleared = finding.agreement_proposed_by_id is not None or finding.status == FindingStatus.AGREED
    proposer, agreer = finding.agreement_proposed_by, finding.agreed_by
    finding.agreement_proposed_by, finding.agreement_proposed_at = None, None
    if finding.status == FindingStatus.AGREED:
        finding.status, finding.agreed_by, finding.agreed_at = "draft", None, None
    if cleared and why is not None:
        telling.agreement_withdrawn(finding, actor=actor, proposer=proposer, agreer=agreer, why=why)
    return cleared


def propose_agreement(finding: Finding, *, actor: User) -> None:
    """Ask the panel to agree a draft finding (the panel is told); another panel member or a moderator must agree it.

    Raises `PermissionDeniedError` unless the actor works on the review's panel, and
    `FindingError` when the finding is not a draft or agreement was already proposed.
    """
    require(actor, "review.work", finding.review)
    if finding.status != FindingStatus.DRAFT:
        raise FindingError(f"Finding {finding.number} is already {finding.status}.")
    if finding.agreement_proposed_by_id is not None:
        raise FindingError(f"Agreement on finding {finding.number} has already been proposed.")
    finding.agreement_proposed_by = actor
    finding.agreement_proposed_at = utcnow()
    db.session.flush()
    record_event("finding.propose", actor=actor, target=finding, target_label=_label(finding), old="draft")
    telling.agreement_proposed(finding, actor=actor)


def agree_finding(finding: Finding, *, actor: User) -> None:
    """Agree a finding whose agreement someone else proposed; it becomes `agreed` (its proposer and holder are told).

    Raises `PermissionDeniedError` unless the actor works on the review's panel (or is
    staff), and `FindingError` when nobody proposed agreement, the actor proposed it
    themselves, or the finding is not a draft.
    """
    require(actor, "review.work", finding.review)
    if finding.status != FindingStatus.DRAFT:
        raise FindingError(f"Finding {finding.number} is already {finding.status}.")
    if finding.agreement_proposed_by_id is None:
        raise FindingError(f"Nobody has proposed agreeing finding {finding.number} yet; propose it first.")
    if finding.agreement_proposed_by_id == actor.id:
        raise FindingError(
            "You proposed agreeing this finding, so another panel member (or a moderator) must agree it."
        )
    finding.status = "agreed"
    finding.agreed_by = actor
    finding.agreed_at = utcnow()
    db.session.flush()
    record_event("finding.agree", actor=actor, target=finding, target_label=_label(finding), old="draft", new="agreed")
    telling.finding_agreed(finding, actor=actor)


def withdraw_finding(finding: Finding, *, actor: User) -> None:
    """Set a draft or agreed finding aside: it stays in the workspace, out of publishing and the report.

    Raises `PermissionDeniedError` unless the actor works on the review's panel, and
    `FindingError` for a finding already published or withdrawn.
    """
    require(actor, "review.work", finding.review)
    if finding.status not in (FindingStatus.DRAFT, FindingStatus.AGREED):
        raise FindingError(f"Finding {finding.number} is {finding.status}, so it cannot be withdrawn.")
    old = finding.status
    reopen_agreement(finding, actor=actor, why=telling.WITHDRAWN)
    finding.status, finding.updated_at = "withdrawn", utcnow()
    db.session.flush()
    record_event(
        "finding.withdraw", actor=actor, target=finding, target_label=_label(finding), old=old, new="withdrawn"
    )


def reinstate_finding(finding: Finding, *, actor: User) -> None:
    """Bring a withdrawn finding back as a draft. Raises `PermissionDeniedError`, or `FindingError` if not withdrawn."""
    require(actor, "review.work", finding.review)
    if finding.status != FindingStatus.WITHDRAWN:
        raise FindingError(f"Finding {finding.number} is not withdrawn.")
    finding.status, finding.updated_at = "draft", utcnow()
    db.session.flush()
    record_event(
        "finding.reinstate", actor=actor, target=finding, target_label=_label(finding), old="withdrawn", new="draft"
    )


def publish_findings(review: Review, *, actor: User) -> list[Finding]:
    """Publish the review's agreed findings and mark the review itself published.

    Every finding not withdrawn must be agreed (or already published), and at least one
    must be waiting. The review's new status is saved as a revision of the review; the panel
    and the review's followers are told. Returns the findings published now. Raises
    `PermissionDeniedError` unless the actor works on the review's panel, and `FindingError`
    when there is nothing to publish or a finding is not yet agreed.
    """
    require(actor, "review.work", review)
    findings = list(
        db.session.scalars(
            db.select(Finding).where(Finding.review_id == review.id, Finding.status != FindingStatus.WITHDRAWN)
        )
    )
    findings.sort(key=lambda finding: finding.number)
    waiting = [finding.number for finding in findings if finding.status == FindingStatus.DRAFT]
    if not findings:
        raise FindingError("This review has no findings yet, so there is nothing to publish.")
    if waiting:
        numbers = ", ".join(str(number) for number in waiting)
        raise FindingError(f"Every finding must be agreed before the review is published. Not yet agreed: {numbers}.")
    to_publish = [finding for finding in findings if finding.status == FindingStatus.AGREED]
    if not to_publish:
        raise FindingError("Every finding of this review is already published.")
    now = utcnow()
    targets = targets_for(
        text
        for finding in to_publish
        for saved in (finding, *finding.revisions)
        for text in (saved.body, saved.recommendations)
    )
    for finding in to_publish:
        finding.status, finding.published_at = "published", now
        # Its readers are now the review's, so its links are shown for them.
        rerender_finding(finding, targets)
    old_status = review.review_status
    if old_status != ReviewStatus.PUBLISHED:
        save_entry_state(review, actor=actor, message="Findings published", review_status="published")
    db.session.flush()
    record_event(
        "review.publish",
        actor=actor,
        target=review,
        old=old_status,
        new=f"published with findings {', '.join(str(finding.number) for finding in to_publish)}",
    )
    telling.findings_published(review, to_publish, actor=actor)
    return to_publish
