"""Telling an author what happened to their contribution: on their notifications page and by mail.

The notification is written whatever their mail settings; the mail follows them. Links
are built from the configured `SITE_URL`, never from the request's host, and mail is only
queued: it goes out after the commit, and not at all if the work is rolled back.
"""

from __future__ import annotations

from flask import current_app

from kb.dates import utcnow
from kb.entries.models import Entry
from kb.entries.vocabulary import KINDS, STATUSES, VISIBILITIES
from kb.mail import Mail, queue_mail, site_link
from kb.notifications.mails import unsubscribe_footer, unsubscribe_headers
from kb.notifications.queries import wants_mail
from kb.notifications.service import write_notification
from kb.states import NotificationKind
from kb.users.models import User

CONTRIBUTIONS_PATH = "/account/contributions"
"""The author's "my contributions" page (the `contributions.mine` route)."""


def edit_path(entry: Entry) -> str:
    """Where the entry is edited (the `contributions.edit` route)."""
    return f"{entry.path}/edit"


def _mail_author(entry: Entry, subject: str, paragraphs: list[str], *, actor: User, link: str) -> bool:
    """Tell the entry's author in the app (`subject`, linking to `link`) and queue the mail.

    False when it has no active author to tell, or when they turned moderation mail off
    (the notification is written all the same).
    """
    author = entry.author
    if author is None or not author.active:
        return False
    notification = write_notification(
        author, kind=NotificationKind.MODERATION, entry=entry, actor=actor, message=subject, link=link
    )
    if not wants_mail(author.id, "moderation"):
        return False
    notification.mailed_at = utcnow()
    site = current_app.config["SITE_NAME"]
    body = "\n\n".join(
        [
            f"Hello {author.display_name},",
            *paragraphs,
            f"Everything you have written: {site_link(CONTRIBUTIONS_PATH)}",
            f"– {site}",
            unsubscribe_footer(author, "moderation"),
        ]
    )
    headers = unsubscribe_headers(author, "moderation")
    queue_mail(Mail(to=author.email, subject=subject, body=body + "\n", headers=headers))
    return True


def _kind(entry: Entry) -> str:
    return KINDS[entry.kind].lower()


def tell_published(entry: Entry, *, actor: User) -> bool:
    """Tell the author their lesson is published, for whom, and where to read it."""
    audience = VISIBILITIES[entry.visibility].lower()
    return _mail_author(
        entry,
        f"Your {_kind(entry)} is published: {entry.title}",
        [
            f'{actor.display_name} published your {_kind(entry)} "{entry.title}". It can now be read by: {audience}.',
            f"Read it here: {site_link(entry.path)}",
        ],
        actor=actor,
        link=entry.path,
    )


def tell_returned(entry: Entry, *, actor: User, reason: str) -> bool:
    """Tell the author their lesson came back to them, why, and where to change it."""
    return _mail_author(
        entry,
        f"Your {_kind(entry)} was returned to you: {entry.title}",
        [
            f'{actor.display_name} returned your {_kind(entry)} "{entry.title}" so that you can change it.',
            f"The reason they gave:\n\n{reason}",
            f"Change it and submit it again here: {site_link(edit_path(entry))}",
        ],
        actor=actor,
        link=edit_path(entry),
    )


def tell_rejected(entry: Entry, *, actor: User, reason: str) -> bool:
    """Tell the author their lesson will not be published, and why."""
    return _mail_author(
        entry,
        f"Your {_kind(entry)} was not accepted: {entry.title}",
        [
            f'{actor.display_name} decided not to publish your {_kind(entry)} "{entry.title}".',
            f"The reason they gave:\n\n{reason}",
            f"You can still read what you wrote: {site_link(entry.path)}",
        ],
        actor=actor,
        link=entry.path,
    )


def tell_status_changed(entry: Entry, *, actor: User, old_status: str) -> bool:
    """Tell the author a moderator changed their entry's status in the document editor."""
    if entry.author_id == actor.id:
        return False
    return _mail_author(
        entry,
        f"The status of your {_kind(entry)} changed: {entry.title}",
        [
            f'{actor.display_name} changed the status of your {_kind(entry)} "{entry.title}" '
            f'from "{STATUSES[old_status]}" to "{STATUSES[entry.status]}".',
            f"See it here: {site_link(entry.path)}",
        ],
        actor=actor,
        link=entry.path,
    )
