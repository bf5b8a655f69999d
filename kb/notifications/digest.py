"""The daily digest: one mail per person with what happened on what they follow and what they keep for it.

The items are those of the topics a person chose to hear of in the digest
(`Notification.for_digest`), always, and follow notifications while the person's older
"digest of what I follow" switch is on: that switch (and the digest mail's unsubscribe link,
which turns it off) governs only the follows. For each person with items not yet in a digest,
the run collects those they may still see, claims them with one
`UPDATE ... WHERE digest_at IS NULL RETURNING` and writes the digest to the mail outbox in the
same transaction, so an item is claimed only by the digest that carries it. A second run, or
one running at the same time, finds them claimed, so no item is ever in two digests; a digest
the mail server refuses stays in the outbox and `flask --app kb mail send-pending` sends it
later (the run reports it). Follows told while the switch was off are passed over when it is
turned back on (`pass_over_follows`), so that does not send a backlog; they stay on the
notifications page either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import OperationalError

from kb import mail as outgoing
from kb.dates import london_time, utcnow
from kb.extensions import db
from kb.mail import Mail, site_link
from kb.notifications import mails, queries
from kb.notifications.models import Notification, NotificationSettings
from kb.permissions import viewer_for
from kb.states import NotificationKind
from kb.users.models import User


@dataclass
class DigestReport:
    """What a digest run did."""

    digests: int = 0
    items: int = 0
    people: int = 0
    failed: int = 0
    """Digests the mail server refused for now; they wait in the mail outbox for `mail send-pending`."""
    postponed: int = 0
    """People skipped because the database was busy; their items wait for the next run."""

    def summary(self) -> str:
        """One line for the end of the run."""
        line = f"Sent {self.digests} digests with {self.items} items to {self.people} people"
        extras = [
            f"{self.failed} could not be sent yet, kept for `flask --app kb mail send-pending`" if self.failed else "",
            f"{self.postponed} postponed (database busy)" if self.postponed else "",
        ]
        extra = "; ".join(part for part in extras if part)
        return f"{line} ({extra})." if extra else f"{line}."


FOLLOWS_DIGEST_OFF = exists().where(
    NotificationSettings.user_id == Notification.user_id, NotificationSettings.mail_digest.is_(False)
)
"""The notification's person switched the digest of what they follow off (no settings row: on)."""

DIGEST_ITEM = or_(
    Notification.for_digest.is_(True), and_(Notification.kind == NotificationKind.FOLLOW, ~FOLLOWS_DIGEST_OFF)
)
"""A notification the digest carries: one of a topic its person keeps for the digest, or a follow while
their digest of follows is on."""


DIGEST_REASON = "You get this digest for what you follow and for the topics you chose to put in your daily digest."
"""The digest mail's footer says why it came; its unsubscribe link turns off the digest of follows only."""


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


def pass_over_follows(user: User, at: dt.datetime) -> int:
    """Mark the person's follows still waiting when their digest of follows is turned back on as passed.

    Those were told while it was off (or before, and not yet sent), so turning it on sends no
    backlog; they stay on the notifications page. Returns how many were passed over (flushed).
    """
    statement = (
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.kind == NotificationKind.FOLLOW,
            Notification.for_digest.is_(False),
            Notification.digest_at.is_(None),
        )
        .values(digest_at=at)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    return len(db.session.scalars(statement).all())


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
    return mails.compose(user, "digest", subject, paragraphs, reason=DIGEST_REASON)


def _digest_one(user: User, report: DigestReport, on_person: Callable[[str], None]) -> None:
    """Claim one person's items and queue their digest in one transaction; the outbox sends it after the commit."""
    ids = items_for(user)
    if not ids:
        return
    try:
        claimed = claim(ids, utcnow())
        items = list(db.session.scalars(select(Notification).where(Notification.id.in_(claimed))))
        queued = outgoing.queue_mail(digest_mail(user, items)) if items else None
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        report.postponed += 1
        on_person(f"{user.email}: database busy, left for the next run")
        return
    if queued is None:
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
