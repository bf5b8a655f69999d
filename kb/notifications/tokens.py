"""Signed one-click unsubscribe tokens: whose they are and which kind of mail they turn off.

A token is signed with the app's secret key under a salt of its own, so no other link
of the site (invitations, password resets) can be used as one, nor one of these as
those. It never expires: a mail read a year later still unsubscribes. Nothing is stored.
The "Turn it back on" button of the unsubscribed page posts a token that also holds how a
topic was mailed before (`restore`: at once or in the digest), so undoing puts that back.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from kb.errors import InvalidInputError
from kb.notifications.topics import TOPICS
from kb.states import MailDelivery

SALT = "kb-unsubscribe"
CATEGORIES: dict[str, str] = {
    "mentions": "mail when someone mentions you",
    "replies": "mail when someone replies to your comment or reports back on a consultation you answered",
    "moderation": "mail about moderation decisions and, for moderators, new flags",
    "digest": "the daily digest of what you follow",
    **{topic.key: topic.mail_description for topic in TOPICS},
}
"""Each kind of mail a person can turn off, with how the pages name it: the four older switches, then the topics."""

CATEGORY_NOTES: dict[str, str] = {
    "digest": (
        "Topics you chose to put in your daily digest still come in it; change those in your notification settings."
    ),
}
"""What turning a kind of mail off leaves on, said in its mail's footer and on the unsubscribe pages."""


RESTORABLE: frozenset[str] = frozenset({MailDelivery.NOW, MailDelivery.DIGEST})
"""The deliveries an undo may put back."""


class UnsubscribeTokenError(InvalidInputError):
    """A token that was altered, cut short or names no kind of mail."""


@dataclass(frozen=True)
class UnsubscribeClaim:
    """What a valid token says: whose mail, which kind, and (an undo's token) the topic's delivery to put back."""

    user_id: int
    category: str
    restore: str | None = None


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def make_unsubscribe_token(secret_key: str, user_id: int, category: str, restore: str | None = None) -> str:
    """A token that turns off `category` (a key of `CATEGORIES`) for the user; raises ValueError for another.

    `restore` (a `MailDelivery` other than none) is what its undo puts back, for a topic.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown mail category {category!r}")
    if restore is not None and restore not in RESTORABLE:
        raise ValueError(f"cannot restore {restore!r}")
    data: dict[str, int | str] = {"u": user_id, "c": category}
    if restore is not None:
        data["r"] = restore
    return _serializer(secret_key).dumps(data)


def read_unsubscribe_token(secret_key: str, token: str) -> UnsubscribeClaim:
    """The claim a token makes; raises `UnsubscribeTokenError` when it is not one this site signed."""
    try:
        data = _serializer(secret_key).loads(token)
    except BadSignature:
        raise UnsubscribeTokenError("This unsubscribe link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or data.get("c") not in CATEGORIES:
        raise UnsubscribeTokenError("This unsubscribe link is not valid.")
    restore = data.get("r")
    if restore is not None and restore not in RESTORABLE:
        raise UnsubscribeTokenError("This unsubscribe link is not valid.")
    return UnsubscribeClaim(data["u"], data["c"], restore)
