"""The audit event: one row per recorded action, never changed or removed by the app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from kb.dates import utcnow
from kb.errors import KbError
from kb.extensions import Model

ACTIONS: dict[str, str] = {
    "login.success": "Signed in",
    "login.failure": "Sign-in failed",
    "login.throttled": "Sign-in throttled",
    "logout": "Signed out",
    "sso.link": "Linked a single sign-on account",
    "sso.create": "Made an account by single sign-on",
    "session.end": "Signed out another session",
    "session.end-others": "Signed out everywhere else",
    "token.issue": "Made an API token",
    "token.revoke": "Revoked an API token",
    "feed.renew": "Made a personal feed address",
    "feed.revoke": "Revoked the personal feed address",
    "password.change": "Changed password",
    "password.reset-request": "Asked for a password reset",
    "password.reset": "Reset password",
    "invite.send": "Invited",
    "invite.accept": "Accepted invitation",
    "totp.enable": "Turned on two-step verification",
    "totp.recovery-used": "Used a recovery code",
    "user.role": "Changed role",
    "user.deactivate": "Deactivated account",
    "user.reactivate": "Reactivated account",
    "user.organisation": "Changed organisation",
    "panel.add": "Added to panel",
    "panel.remove": "Removed from panel",
    "organisation.create": "Created organisation",
    "organisation.update": "Changed organisation details",
    "entry.create": "Created entry",
    "entry.edit": "Edited entry",
    "entry.submit": "Submitted for publication",
    "entry.publish": "Published",
    "entry.return": "Returned to author",
    "entry.reject": "Rejected",
    "entry.status": "Changed status",
    "entry.visibility": "Changed visibility",
    "entry.delete": "Deleted entry",
    "entry.hide": "Hid entry",
    "entry.restore": "Restored entry",
    "entry.remove": "Removed entry",
    "entry.merge": "Merged duplicate entry",
    "entry.feature": "Featured entry",
    "entry.unfeature": "Stopped featuring entry",
    "entry.maturity": "Changed maturity",
    "entry.action-status": "Changed action status",
    "entry.action": "Changed action owner, due date, evidence or note",
    "entry.lock": "Locked discussion",
    "entry.unlock": "Unlocked discussion",
    "document.attach": "Attached a document",
    "document.replace": "Replaced a document",
    "document.remove": "Removed a document",
    "tag.rename": "Renamed tag",
    "tag.merge": "Merged tag",
    "tag.move": "Moved tag into a theme",
    "finding.create": "Drafted finding",
    "finding.edit": "Edited finding",
    "finding.propose": "Proposed agreeing finding",
    "finding.agree": "Agreed finding",
    "finding.withdraw": "Withdrew finding",
    "finding.reinstate": "Reinstated finding",
    "finding.hand": "Handed over the pen of a finding",
    "finding.correct": "Corrected published finding",
    "review.publish": "Published review findings",
    "comment.post": "Posted comment",
    "comment.edit": "Edited comment",
    "comment.hide": "Hid comment",
    "comment.restore": "Restored comment",
    "comment.remove": "Removed comment",
    "thread.resolve": "Resolved a finding's discussion thread",
    "thread.reopen": "Reopened a finding's discussion thread",
    "flag.raise": "Flagged",
    "flag.dismiss": "Dismissed flag",
    "citation.add": "Cited evidence in a finding",
    "citation.remove": "Removed a citation from a finding",
    "citation.move": "Reordered a finding's citations",
    "consultation.theme-add": "Tagged a consultation answer with a theme",
    "consultation.theme-remove": "Took a theme off a consultation answer",
    "consultation.outcome-save": "Saved a consultation's outcome",
    "consultation.outcome-publish": "Published a consultation's outcome",
    "recurrence.confirm": "Confirmed a recurrence",
    "recurrence.reject": "Judged not a recurrence",
    "consultation.open": "Opened a consultation",
    "consultation.edit": "Changed a consultation before it opened",
    "consultation.remind": "Claimed a consultation's closing reminder",
    "response.submit": "Submitted a consultation response",
}


class AuditEvent(Model):
    """Who did what to which object, the old and new value, when and from which address."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None]
    target_label: Mapped[str] = mapped_column(String(300), default="")
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))


class AuditLogIsAppendOnlyError(KbError, RuntimeError):
    """Raised when code tries to change or delete a recorded audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Stop any flush that would alter or delete an audit event."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnlyError("audit events cannot be changed or deleted")
