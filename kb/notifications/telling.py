"""One doorway for telling a group of people about one event: in the app now, by mail as each person chose.

Panel work, corrections and consultations call `tell` after they flush their change. Each
recipient gets one in-app notification (written in the same transaction as the change);
mail for it goes out after the commit, if the person wants mail of that kind now.
Nobody is told of their own action, inactive people are skipped, and `may_hear` (the
visibility rule for the thing the event is about) is asked for each person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from kb.dates import utcnow
from kb.extensions import db
from kb.mail import queue_mail, site_link
from kb.notifications import mails, queries
from kb.notifications.models import Notification
from kb.states import NotificationKind

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.panels.models import Finding
    from kb.users.models import User

KIND_MAIL_CATEGORY: dict[str, str] = {
    NotificationKind.FINDING_NEW: "replies",
    NotificationKind.PROPOSED: "replies",
    NotificationKind.AGREED: "replies",
    NotificationKind.AGREEMENT_LOST: "replies",
    NotificationKind.FINDING_COMMENT: "replies",
    NotificationKind.MENTION: "mentions",
    NotificationKind.PUBLISHED: "replies",
    NotificationKind.CORRECTION: "replies",
    NotificationKind.CONSULTATION: "replies",
    NotificationKind.RECEIPT: "replies",
}
"""The mail switch that decides whether each kind told through `tell` is mailed at once."""


def tell(
    recipients: Iterable[User],
    *,
    kind: str,
    actor: User | None,
    message: str,
    link: str,
    entry: Entry | None = None,
    finding: Finding | None = None,
    paragraphs: Sequence[str] = (),
    may_hear: Callable[[User], bool] = lambda person: True,
) -> list[Notification]:
    """Tell each of `recipients` (once each) about one event; returns the notifications written (flushed).

    `message` is the one-line notice; `paragraphs` the body of the mail after it, to which
    the link is added. A person who is the actor, inactive, or refused by `may_hear` is skipped.
    """
    written: list[tuple[User, Notification]] = []
    seen: set[int] = set()
    for person in recipients:
        if person.id in seen or not person.active or (actor is not None and person.id == actor.id):
            continue
        seen.add(person.id)
        if not may_hear(person):
            continue
        notification = Notification(
            user_id=person.id,
            kind=kind,
            entry_id=entry.id if entry is not None else None,
            finding_id=finding.id if finding is not None else None,
            actor_id=actor.id if actor is not None else None,
            message=message,
            link=link,
        )
        db.session.add(notification)
        written.append((person, notification))
    db.session.flush()
    for person, notification in written:
        category = KIND_MAIL_CATEGORY.get(kind)
        if category is None or not queries.wants_mail(person.id, category):
            continue
        queue_mail(mails.compose(person, category, message, [f"{message}.", *paragraphs, f"See it: {site_link(link)}"]))
        notification.mailed_at = utcnow()
    return [notification for _, notification in written]
