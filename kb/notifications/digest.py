"""The daily digest: one mail per person with what happened on what they follow and what they keep for it.

The items are follow notifications and those of the topics a person chose to hear of in the
digest (`Notification.for_digest`). For each person with items not yet in a digest, the run
collects those they may still see, claims them with one `UPDATE ... WHERE digest_at IS NULL RETURNING`
and writes the digest to the mail outbox in the same transaction. A second run, or one
running at the same time, finds them claimed, so no item is ever in two digests; a digest
the mail server refuses stays in the outbox and `flask --app kb mail send-pending` sends it
later (the run reports it). People who turned the digest
off have their items claimed without a mail, so turning it back on does not send a backlog;
the items stay in their notifications page either way (unless they keep that topic out of the app).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError

from kb import mail as outgoing
from kb.dates import london_time, utcnow
from kb.extensions import db
from kb.mail import Mail, site_link
from kb.notifications import mails, queries
from kb.notifications.models import Notification
from kb.permissions import viewer_for
from kb.states import NotificationKind
from kb.users.models import User


@dataclass
class DigestReport:
    """What a digest run did."""

    digests: int = 0
    items: int = 0
    people: int = 0
    switched_off: int = 0
    """People whose items were claimed without a mail because they turned the digest off."""
    failed: int = 0
    """Digests the mail server refused for now; they wait in the mail outbox for `mail send-pending`."""
    postponed: int = 0
    """People skipped because the database was busy; their items wait for the next run."""

    def summary(self) -> str:
        """One line for the end of the run."""
        line = f"Sent {self.digests} digests with {self.items} items to {self.people} people"
        extras = [
            f"{self.switched_off} with the digest turned off" if self.switched_off else "",
            f"{self.failed} could not be sent yet, kept for `flask --app kb mail send-pending`" if self.failed else "",
            f"{self.postponed} postponed (database busy)" if self.postponed else "",
        ]
        extra = "; ".join(part for part in extras if part)
        return f"{line} ({extra})." if extra else f"{line}."


DIGEST_ITEM = or_(Notification.kind == NotificationKind.FOLLOW, Notification.for_digest.is_(True))
"""A notification the digest carries: a follow, or one of a topic its person keeps for the digest."""


def people_waiting() -> list[int]:
    """The ids of active people with digest items not yet claimed by a digest."""
    query = (
        select(Notification.user_id)
        .join(User, User.id == Notification.user_id)
        .where(DIGEST_ITEM, Notification.digest_at.is_(None), User.active)
        .distinct()
        .order_by(Notification.user_id)
    )
    return list(db.session.scalars(query))


def items_for(user: User) -> list[int]:
    """The ids of the person's unclaimed digest items that they may still see."""
    query = queries.visible_notifications(viewer_for(user)).where(DIGEST_ITEM, Notification.digest_at.is_(None))
    return list(db.session.scalars(query.with_only_columns(Notification.id)))


def claim(ids: Sequence[int], at: dt.datetime) -> list[int]:
    """Mark `ids` as in a digest unless another run already has; returns the ids this call claimed."""
    if not ids:
        return []
    statement = (
        update(Notification)
        .where(Notification.id.in_(ids), Notification.digest_at.is_(None))
        .values(digest_at=at)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(db.session.scalars(statement))


def digest_mail(user: User, items: Sequence[Notification]) -> Mail:
    """The digest for `user`: the items grouped by entry, oldest first, each with its link."""
    by_entry: dict[int | None, list[Notification]] = {}
    for item in sorted(items, key=lambda notification: (notification.created_at, notification.id)):
        by_entry.setdefault(item.entry_id, []).append(item)
    paragraphs = [f"Here is what happened since your last digest ({len(items)} new):"]
    for group in by_entry.values():
        lines = [f"- {london_time(item.created_at)}: {item.message}\n  {site_link(item.link)}" for item in group]
        paragraphs.append("\n".join(lines))
    plural = "s" if len(items) != 1 else ""
    if all(item.kind == NotificationKind.FOLLOW for item in items):
        subject = f"Your daily digest: {len(items)} new comment{plural} on what you follow"
    else:
        subject = f"Your daily digest: {len(items)} new item{plural}"
    return mails.compose(user, "digest", subject, paragraphs)


def _digest_one(user: User, report: DigestReport, on_person: Callable[[str], None]) -> None:
    """Claim one person's items and queue their digest in one transaction; the outbox sends it after the commit."""
    ids = items_for(user)
    if not ids:
        return
    wanted = queries.wants_mail(user.id, "digest")
    try:
        claimed = claim(ids, utcnow())
        items = list(db.session.scalars(select(Notification).where(Notification.id.in_(claimed))))
        queued = outgoing.queue_mail(digest_mail(user, items)) if claimed and wanted else None
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        report.postponed += 1
        on_person(f"{user.email}: database busy, left for the next run")
        return
    if not claimed:
        return
    if queued is None:
        report.switched_off += 1
        on_person(f"{user.email}: digest turned off, {len(claimed)} items marked")
        return
    if outgoing.unsent([queued]):
        report.failed += 1
        on_person(f"{user.email}: could not send {len(items)} items yet; the digest waits in the mail outbox")
        return
    report.digests += 1
    report.people += 1
    report.items += len(items)
    on_person(f"{user.email}: {len(items)} items")


def send_digests(on_person: Callable[[str], None] = lambda line: None) -> DigestReport:
    """Send every waiting digest, committing each person's claim before their mail; safe to run twice."""
    report = DigestReport()
    for user_id in people_waiting():
        user = db.session.get(User, user_id)
        if user is not None:
            _digest_one(user, report, on_person)
    db.session.commit()
    return report
