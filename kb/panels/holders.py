"""Who holds the pen on a finding: taking it, and handing it to another panel member.

The pen says who is writing a finding now, so the panel does not write over each other;
it does not stop anyone else on the panel from editing. The people who may edit a
finding (`review.work`: its review's panel and staff) may take the pen or hand it on, to
someone with a seat on the review's panel (or to themselves). A change is recorded in
the audit log (`finding.hand`); a finding's history keeps its texts only.
"""

from __future__ import annotations

from sqlalchemy import select

from kb.audit.service import record_event
from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.service import FindingError
from kb.permissions import require
from kb.users.models import PanelMembership, User

NOT_ON_PANEL = "Only someone on this review's panel can hold the pen."
"""The refusal of a holder who is not on the panel; it names nobody, so it tells nothing about an account."""


def sits_on_panel(user: User, finding: Finding) -> bool:
    """Whether `user` is active and has a seat on the panel of the finding's review."""
    if not user.active:
        return False
    seat = select(PanelMembership.id).where(
        PanelMembership.user_id == user.id, PanelMembership.review_id == finding.review_id
    )
    return db.session.scalar(seat) is not None


def hand_pen(finding: Finding, holder: User, *, actor: User) -> bool:
    """Make `holder` the one who holds the pen on `finding`; True when it changed hands, False if they held it.

    Raises `PermissionDeniedError` unless the actor may edit the finding, and
    `FindingError` when `holder` is someone else without a seat on the review's panel.
    """
    require(actor, "review.work", finding.review)
    if finding.holder_id == holder.id:
        return False
    if holder.id != actor.id and not sits_on_panel(holder, finding):
        raise FindingError(NOT_ON_PANEL)
    before = finding.holder.display_name if finding.holder is not None else "nobody"
    finding.holder = holder
    db.session.flush()
    record_event(
        "finding.hand",
        actor=actor,
        target=finding,
        target_label=f"finding {finding.number} of {finding.review.slug}",
        old=before,
        new=holder.display_name,
    )
    return True
