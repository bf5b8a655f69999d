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
from typing import TYPE_CHECKING

from sqlalchemy import insert

from kb.dates import utcnow
from kb.extensions import db
from kb.mail import Mail, queue_mails, site_link
from kb.notifications import mails
from kb.notifications.hearing import deliveries, load_panel_seats
from kb.notifications.models import Notification

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.panels.models import Finding
    from kb.users.models import User


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
    and mailed by the older switches. What is known of each person is read for all at once
    (`kb.notifications.hearing`), so the queries are as many for a thousand people as for one.
    """
    now = utcnow()
    people = [person for person in recipients if person.active and (actor is None or person.id != actor.id)]
    load_panel_seats(people)
    hearing = deliveries([person.id for person in people], kind, about_finding=finding is not None)
    rows: list[dict[str, object]] = []
    queued: list[Mail] = []
    seen: set[int] = set()
    for person in people:
        if person.id in seen:
            continue
        seen.add(person.id)
        if not may_hear(person):
            continue
        how = hearing[person.id]
        if how.mail_category is not None:
            body = [f"{message}.", *paragraphs, f"See it: {site_link(link)}"]
            queued.append(mails.compose(person, how.mail_category, message, body))
        if not how.in_app and not how.for_digest:
            continue
        rows.append(
            {
                "user_id": person.id,
                "kind": kind,
                "entry_id": entry.id if entry is not None else None,
                "finding_id": finding.id if finding is not None else None,
                "actor_id": actor.id if actor is not None else None,
                "message": message,
                "link": link,
                "created_at": now,
                "in_app": how.in_app,
                "for_digest": how.for_digest,
                # Kept only for the digest: read already, so it never counts as unread.
                "read_at": None if how.in_app else now,
                "mailed_at": now if how.mail_category is not None else None,
            }
        )
    queue_mails(queued)
    return _write(rows)


def _write(rows: list[dict[str, object]]) -> list[Notification]:
    """Insert the notifications in a few statements, not one a person, and return them as loaded objects."""
    if not rows:
        return []
    # Every row names every column (None included), so they go in one batch, not one per set of columns.
    insert_all = insert(Notification).returning(Notification).execution_options(render_nulls=True)
    return list(db.session.scalars(insert_all, rows))
