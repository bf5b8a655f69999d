"""Telling people what happened: in-app notifications, immediate mail, and follows for the digest.

Services elsewhere call the three entry points below after they flush a change; every
notification is written in the same transaction as the change it reports, and mail goes
out only after the commit (`kb.mail.queue_mail`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kb.comments.models import Comment
    from kb.entries.models import Entry
    from kb.moderation.models import Flag
    from kb.users.models import User


def comment_posted(comment: Comment, *, actor: User) -> None:
    """Tell the people a new comment concerns: those it @mentions, the author it replies to, followers."""
    return None


def moderation_decided(
    recipient: User | None, *, entry: Entry, message: str, actor: User | None, comment: Comment | None = None
) -> None:
    """Tell `recipient` (an author) what a moderator decided about their comment or entry, now and by mail."""
    return None


def flag_raised(flag: Flag) -> None:
    """Tell every moderator that a new flag waits in the queue."""
    return None
