"""How each of many people hears of one event, read for all of them at once.

`kb.notifications.telling.tell` may tell every member of the site about one event (a
consultation opening to all members), inside the request that caused it. What it needs to
know about each person is read here in a fixed number of queries, however many people
there are: their panel seats (which the visibility rule asks about) and, in one query,
their stored choice for the event's topic with their older mail switches. A person without
a stored choice has the default `kb.notifications.queries.choice_for` gives.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, inspect, select
from sqlalchemy.orm import selectinload

from kb.extensions import db
from kb.notifications import topics
from kb.notifications.models import NotificationChoice, NotificationSettings
from kb.notifications.queries import SETTING_FIELDS
from kb.notifications.topics import BY_KEY, Choice, topic_of
from kb.states import MailDelivery, NotificationKind
from kb.users.models import User

LEGACY_MAIL_CATEGORY: dict[str, str] = {NotificationKind.MENTION: "mentions"}
"""The older mail switch of a kind that belongs to no topic (a mention outside findings); "replies" otherwise."""


@dataclass(frozen=True)
class Delivery:
    """How one person hears of one event: listed in the app, kept for the digest, mailed now under `category`."""

    in_app: bool
    for_digest: bool
    mail_category: str | None


def load_panel_seats(people: Sequence[User]) -> None:
    """Load, in one query, the panel seats of those of `people` whose seats are not loaded yet."""
    unloaded = sorted({person.id for person in people if "panel_seats" in inspect(person).unloaded})
    if unloaded:
        db.session.scalars(select(User).where(User.id.in_(unloaded)).options(selectinload(User.panel_seats))).all()


def default_choice(topic: str, settings: NotificationSettings | None) -> Choice:
    """The choice of someone who never chose for `topic`, given their older switches (None: never set).

    The same default `kb.notifications.queries.choice_for` gives a person without a row.
    """
    found = BY_KEY[topic]
    return topics.default_choice(found, settings is None or bool(getattr(settings, SETTING_FIELDS[found.older_switch])))


def choices_for_people(user_ids: Collection[int], topic: str) -> dict[int, Choice]:
    """How each person wants to hear of `topic` (a key of `topics.BY_KEY`), by id, in one query.

    A stored choice where there is one; otherwise `default_choice` from the person's older switches.
    """
    if topic not in BY_KEY:
        raise ValueError(f"unknown topic {topic!r}")
    chosen = and_(NotificationChoice.user_id == User.id, NotificationChoice.topic == topic)
    query = (
        select(User.id, NotificationChoice, NotificationSettings)
        .outerjoin(NotificationChoice, chosen)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(User.id.in_(sorted(set(user_ids))))
    )
    return {
        user_id: Choice(stored.in_app, stored.delivery) if stored is not None else default_choice(topic, settings)
        for user_id, stored, settings in db.session.execute(query)
    }


def mail_switches_for_people(user_ids: Collection[int], category: str) -> dict[int, bool]:
    """Whether each person has the older `category` mail switch (a key of `SETTING_FIELDS`) on, in one query."""
    field = getattr(NotificationSettings, SETTING_FIELDS[category])
    query = select(NotificationSettings.user_id, field).where(NotificationSettings.user_id.in_(sorted(set(user_ids))))
    stored = {user_id: bool(on) for user_id, on in db.session.execute(query)}
    return {user_id: stored.get(user_id, True) for user_id in user_ids}


def deliveries(user_ids: Collection[int], kind: str, *, about_finding: bool) -> dict[int, Delivery]:
    """How each person hears of an event of `kind`, by id: as they chose for its topic, or by the older switch."""
    topic = topic_of(kind, about_finding=about_finding)
    if topic is None:
        category = LEGACY_MAIL_CATEGORY.get(kind, "replies")
        switches = mail_switches_for_people(user_ids, category)
        return {user_id: Delivery(True, False, category if on else None) for user_id, on in switches.items()}
    return {
        user_id: Delivery(
            choice.in_app,
            choice.delivery == MailDelivery.DIGEST,
            topic if choice.delivery == MailDelivery.NOW else None,
        )
        for user_id, choice in choices_for_people(user_ids, topic).items()
    }
