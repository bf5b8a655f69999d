"""Telling a review's panel (and, for publication, the review's followers) about the work on its findings.

`kb.panels.service` and `kb.panels.citations` call these after they flush a change. Each
builds the message and chooses who hears it; `kb.notifications.telling.tell` writes the
notifications and mails them by each person's choices, skipping the actor, inactive
accounts and anyone who may not read the finding (`permissions.can_view_finding`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from kb.extensions import db
from kb.notifications.models import Follow
from kb.notifications.telling import tell
from kb.panels import queries
from kb.permissions import can_view_entry, can_view_finding, viewer_for
from kb.states import FollowTarget, NotificationKind
from kb.users.models import User

if TYPE_CHECKING:
    from kb.entries.models import Review
    from kb.notifications.models import Notification
    from kb.panels.models import Finding

TEXT_EDITED = "edited its text"
CITATION_ADDED = "added a citation"
CITATION_CHANGED = "changed a citation"
CITATION_REMOVED = "removed a citation"
WITHDRAWN = "withdrew the finding"
"""Why agreement on a finding was withdrawn, as the rest of "<who> ..." in the notice."""


def finding_path(finding: Finding) -> str:
    """The address of a finding's page."""
    return f"/reviews/{finding.review.slug}/findings/{finding.number}"


def _who(actor: User | None) -> str:
    return actor.display_name if actor is not None else "Someone"


def _tell_panel(
    finding: Finding,
    recipients: Sequence[User | None],
    *,
    kind: str,
    actor: User | None,
    message: str,
    paragraphs: Sequence[str] = (),
) -> list[Notification]:
    return tell(
        [person for person in recipients if person is not None],
        kind=kind,
        actor=actor,
        message=message,
        link=finding_path(finding),
        entry=finding.review,
        finding=finding,
        paragraphs=paragraphs,
        may_hear=lambda person: can_view_finding(viewer_for(person), finding),
    )


def _named(finding: Finding) -> str:
    return f"finding {finding.number} of “{finding.review.title}”"


def finding_drafted(finding: Finding, *, actor: User) -> list[Notification]:
    """Tell the panel that `actor` drafted a new finding."""
    return _tell_panel(
        finding,
        queries.panel_members(finding.review),
        kind=NotificationKind.FINDING_NEW,
        actor=actor,
        message=f"{_who(actor)} drafted {_named(finding)}: {finding.title}",
    )


def agreement_proposed(finding: Finding, *, actor: User) -> list[Notification]:
    """Tell the panel that `actor` proposed a finding for agreement, and that it waits for a second member."""
    return _tell_panel(
        finding,
        queries.panel_members(finding.review),
        kind=NotificationKind.PROPOSED,
        actor=actor,
        message=f"{_who(actor)} proposed {_named(finding)} for agreement; it needs a second panel member to agree it",
        paragraphs=(f"The finding: {finding.title}",),
    )


def finding_agreed(finding: Finding, *, actor: User) -> list[Notification]:
    """Tell the member who proposed the finding and the one who holds its pen that `actor` agreed it."""
    return _tell_panel(
        finding,
        [finding.agreement_proposed_by, finding.holder],
        kind=NotificationKind.AGREED,
        actor=actor,
        message=f"{_who(actor)} agreed {_named(finding)}",
        paragraphs=(f"The finding: {finding.title}",),
    )


def agreement_withdrawn(
    finding: Finding, *, actor: User | None, proposer: User | None, agreer: User | None, why: str
) -> list[Notification]:
    """Tell the member who agreed a finding and the one who proposed it that the agreement was withdrawn, and why.

    `agreer` is None when the finding was only proposed: then the proposal is what was cleared.
    `why` is one of this module's reasons (`TEXT_EDITED`, `CITATION_ADDED`, ...).
    """
    if agreer is not None:
        message = f"Agreement on {_named(finding)} was withdrawn: {_who(actor)} {why}"
    else:
        message = f"The proposal to agree {_named(finding)} was cleared: {_who(actor)} {why}"
    after = (
        "It is a draft again: it needs proposing and agreeing again before it can be published."
        if why != WITHDRAWN
        else "It is set aside: it will not be published unless it is reinstated and agreed again."
    )
    return _tell_panel(
        finding,
        [agreer, proposer],
        kind=NotificationKind.AGREEMENT_LOST,
        actor=actor,
        message=message,
        paragraphs=(after,),
    )


def publication_audience(review: Review) -> list[User]:
    """Who hears of a review's publication and of corrections: its panel, then the active followers of the review."""
    followers = db.session.scalars(
        select(User)
        .join(Follow, Follow.user_id == User.id)
        .where(
            Follow.target_type.in_((FollowTarget.REVIEW, FollowTarget.ENTRY)),
            Follow.target_id == review.id,
            User.active.is_(True),
        )
        .order_by(User.id)
    )
    return [*queries.panel_members(review), *followers]


def findings_published(review: Review, findings: Sequence[Finding], *, actor: User) -> list[Notification]:
    """Tell the panel and the review's followers (those who may read the review) that its findings are published."""
    numbers = ", ".join(str(finding.number) for finding in findings)
    noun = "finding" if len(findings) == 1 else "findings"
    return tell(
        publication_audience(review),
        kind=NotificationKind.PUBLISHED,
        actor=actor,
        message=f"{_who(actor)} published {noun} {numbers} of “{review.title}”",
        link=f"/reviews/{review.slug}/report",
        entry=review,
        paragraphs=[f"{finding.number}. {finding.title}" for finding in findings],
        may_hear=lambda person: can_view_entry(viewer_for(person), review),
    )
