"""One doorway for telling a group of people about one event: in the app now, by mail as each person chose.

Panel work, corrections and consultations call `tell` after they flush their change. Each
recipient gets one notification (written in the same transaction as the change), listed in
the app unless they chose otherwise;
mail for it goes out after the commit, if the person wants mail of that kind now, and a
kind they keep for the digest waits for the next digest run (`kb.notifications.digest`).
Nobody is told of their own action, inactive people are skipped, and `may_hear` (the
visibility rule for the thing the event is about) is asked for each person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.dates import utcnow
from kb.extensions import db
from kb.mail import queue_mail, site_link
from kb.notifications import mails, queries
from kb.notifications.models import Notification
from kb.notifications.topics import topic_of
from kb.states import MailDelivery, NotificationKind

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.panels.models import Finding
    from kb.users.models import User

LEGACY_MAIL_CATEGORY: dict[str, str] = {NotificationKind.MENTION: "mentions"}
"""The older mail switch of a kind that belongs to no topic (a mention outside findings); "replies" otherwise."""


@dataclass(frozen=True)
class _Delivery:
    """How one person hears of one event: listed in the app, kept for the digest, mailed now under `category`."""

    in_app: bool
    for_digest: bool
    mail_category: str | None


def _delivery(person: User, kind: str, *, about_finding: bool) -> _Delivery:
    topic = topic_of(kind, about_finding=about_finding)
    if topic is None:
        category = LEGACY_MAIL_CATEGORY.get(kind, "replies")
        return _Delivery(True, False, category if queries.wants_mail(person.id, category) else None)
    choice = queries.choice_for(person.id, topic)
    now = topic if choice.delivery == MailDelivery.NOW else None
    return _Delivery(choice.in_app, choice.delivery == MailDelivery.DIGEST, now)


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
    """Tell each of `recipients` (once each) about one event as each chose; returns the notifications written.

    `message` is the one-line notice; `paragraphs` the body of the mail after it, to which
    the link is added. A person who is the actor, inactive, or refused by `may_hear` is skipped.
    Each person's choice for the kind's topic (`kb.notifications.topics`) decides the rest: a
    notification listed in the app, or kept unlisted for the digest only; mail queued now (sent
    after the commit) or left for the digest. Someone who wants neither the app nor the digest
    gets no notification row, only the mail if they want it. Kinds outside the topics are listed
    and mailed by the older switches.
    """
    written: list[tuple[User, Notification]] = []
    mail_only: list[tuple[User, str]] = []
    seen: set[int] = set()
    for person in recipients:
        if person.id in seen or not person.active or (actor is not None and person.id == actor.id):
            continue
        seen.add(person.id)
        if not may_hear(person):
            continue
        how = _delivery(person, kind, about_finding=finding is not None)
        if not how.in_app and not how.for_digest:
            if how.mail_category is not None:
                mail_only.append((person, how.mail_category))
            continue
        notification = Notification(
            user_id=person.id,
            kind=kind,
            entry_id=entry.id if entry is not None else None,
            finding_id=finding.id if finding is not None else None,
            actor_id=actor.id if actor is not None else None,
            message=message,
            link=link,
            in_app=how.in_app,
            for_digest=how.for_digest,
            # Kept only for the digest: read already, so it never counts as unread.
            read_at=None if how.in_app else utcnow(),
        )
        db.session.add(notification)
        written.append((person, notification))
        if how.mail_category is not None:
            mail_only.append((person, how.mail_category))
    db.session.flush()
    mailed_at = utcnow()
    by_person = {person.id: notification for person, notification in written}
    for person, category in mail_only:
        body = [f"{message}.", *paragraphs, f"See it: {site_link(link)}"]
        queue_mail(mails.compose(person, category, message, body))
        if person.id in by_person:
            by_person[person.id].mailed_at = mailed_at
    return [notification for _, notification in written]
