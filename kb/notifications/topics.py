"""The topics a person switches: groups of notification kinds told through `kb.notifications.telling.tell`.

For each topic a person chooses whether it is shown in the app and whether it is mailed at
once, kept for the daily digest or not mailed (`NotificationChoice`). Each topic's key is
also the mail category its unsubscribe links name (`kb.notifications.tokens.CATEGORIES`).
This module holds only data and the mapping from a kind to its topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.states import MailDelivery, NotificationKind


@dataclass(frozen=True)
class Topic:
    """One switchable group of kinds, with how the settings page and mails name it."""

    key: str
    label: str
    hint: str
    kinds: tuple[NotificationKind, ...]
    mail_description: str
    """How a mail's footer and the unsubscribe page name this topic's mail."""
    older_switch: str = "replies"
    """The older mail switch (`mentions` or `replies`) whose "off" makes this topic's default not mailed."""


TOPICS: tuple[Topic, ...] = (
    Topic(
        "panel_work",
        "Panel work: new findings, proposals, agreements",
        "A colleague on your panel drafts a finding, proposes one for agreement, or agrees yours.",
        (NotificationKind.FINDING_NEW, NotificationKind.PROPOSED, NotificationKind.AGREED),
        "mail about your panel's findings: new ones, proposals and agreements",
    ),
    Topic(
        "agreement_lost",
        "Agreement withdrawn",
        "A finding you proposed or agreed goes back to draft, and why: its text or citations changed.",
        (NotificationKind.AGREEMENT_LOST,),
        "mail when agreement on a finding you proposed or agreed is withdrawn",
    ),
    Topic(
        "finding_talk",
        "Comments and mentions on findings",
        "Someone comments on a finding of your panel, or mentions you there.",
        (NotificationKind.FINDING_COMMENT, NotificationKind.MENTION),
        "mail about comments and mentions on your panel's findings",
        "mentions",
    ),
    Topic(
        "publication",
        "Publication and corrections",
        "A review's findings are published, or a published finding is corrected.",
        (NotificationKind.PUBLISHED, NotificationKind.CORRECTION),
        "mail when findings are published or corrected",
    ),
    Topic(
        "consultations",
        "Consultations opening",
        "A consultation opens on something you follow, or the panel asks every member.",
        (NotificationKind.CONSULTATION,),
        "mail when a consultation opens",
    ),
    Topic(
        "receipts",
        "Receipts",
        "A copy of your answers when you submit a consultation response.",
        (NotificationKind.RECEIPT,),
        "receipts for your consultation responses",
    ),
)
"""Every topic, in the order the settings page lists them."""

TOPIC_KEYS: tuple[str, ...] = tuple(topic.key for topic in TOPICS)
BY_KEY: dict[str, Topic] = {topic.key: topic for topic in TOPICS}

_KIND_TOPIC: dict[str, str] = {
    kind: topic.key for topic in TOPICS for kind in topic.kinds if kind != NotificationKind.MENTION
}


def topic_of(kind: str, *, about_finding: bool) -> str | None:
    """The topic a notification of `kind` belongs to; None for kinds switched by the older mail switches.

    A mention belongs to "Comments and mentions on findings" only when it is about a finding;
    a mention in an ordinary comment keeps the older "mentions" switch.
    """
    if kind == NotificationKind.MENTION:
        return "finding_talk" if about_finding else None
    return _KIND_TOPIC.get(kind)


@dataclass(frozen=True)
class Choice:
    """How a person wants to hear of one topic."""

    in_app: bool = True
    delivery: str = MailDelivery.NOW
    """One of `MailDelivery`'s values."""


DEFAULT_CHOICE = Choice()
"""What a person who never chose gets while the topic's older switch is on: in the app and mailed at once."""

QUIET_CHOICE = Choice(in_app=True, delivery=MailDelivery.NONE)
"""What a person who never chose gets when they had switched the topic's older switch off: in the app, not mailed."""


def default_choice(topic: Topic, older_switch_on: bool) -> Choice:
    """The choice of someone who never chose for `topic`: mailed at once only if its older switch is on.

    The same rule fills `notification_choices` in migration b7e4d1c9a3f6 for people who had
    switched mentions or replies mail off before the topics existed.
    """
    return DEFAULT_CHOICE if older_switch_on else QUIET_CHOICE
