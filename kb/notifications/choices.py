"""Storing how each person wants to hear of each topic: in the app, and mailed at once, in the digest or not."""

from __future__ import annotations

from kb.dates import utcnow
from kb.extensions import db
from kb.notifications import queries
from kb.notifications.models import NotificationChoice
from kb.notifications.topics import BY_KEY, Choice
from kb.states import MailDelivery
from kb.users.models import User


def update_choices(user: User, choices: dict[str, Choice]) -> None:
    """Store how the person wants to hear of each topic; `choices` maps topic keys to choices (flushed).

    Raises `ValueError` for a key that names no topic (the settings form offers only topics).
    """
    now = utcnow()
    for topic, choice in choices.items():
        if topic not in BY_KEY:
            raise ValueError(f"unknown topic {topic!r}")
        stored = db.session.get(NotificationChoice, (user.id, topic))
        if stored is None:
            stored = NotificationChoice(user_id=user.id, topic=topic)
            db.session.add(stored)
        stored.in_app, stored.delivery, stored.updated_at = choice.in_app, choice.delivery, now
    db.session.flush()


def set_topic_mail(user: User, topic: str, *, on: bool, restore: str | None = None) -> str:
    """Turn a topic's mail off, or back on as `restore` (at once or in the digest; at once when None).

    Whether it is shown in the app is kept. The unsubscribe link of a topic's mail and its undo
    button; returns the delivery the topic had before, so an undo can put it back. Raises
    `ValueError` for an unknown topic.
    """
    kept = queries.choice_for(user.id, topic)
    delivery: str = MailDelivery.NONE
    if on:
        delivery = MailDelivery.DIGEST if restore == MailDelivery.DIGEST else MailDelivery.NOW
    update_choices(user, {topic: Choice(in_app=kept.in_app, delivery=delivery)})
    return kept.delivery
