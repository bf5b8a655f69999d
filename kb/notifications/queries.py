"""Reading notifications, follows and settings, always through the visibility rule.

A notification about an entry is listed, counted, mailed and put in a digest only while
its person may see that entry (`permissions.visible_entries`), and one about a comment
only while they may read that comment (the SQL form of `permissions.can_read_comment`).
A moderation decision is the exception: it tells an author about their own work, which
they may no longer be able to open, so it stays in their list whatever happened to it.
One about a finding is listed only while its person may read that finding
(`permissions.visible_findings`): someone who left the panel no longer sees a draft's news.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, bindparam, func, or_, select

from kb.comments.models import Comment
from kb.entries.models import Entry, entry_tags
from kb.extensions import db
from kb.notifications.models import Follow, Notification, NotificationChoice, NotificationSettings
from kb.notifications.topics import BY_KEY, TOPICS, Choice, default_choice
from kb.pagination import Page, paginate
from kb.panels.models import Finding
from kb.permissions import Viewer, readable_comments, visible_entries, visible_findings
from kb.states import EntryKind, FollowTarget, MailDelivery, NotificationKind, Role
from kb.taxonomy.models import Tag, Theme
from kb.users.models import User

SETTING_FIELDS: dict[str, str] = {
    "mentions": "mail_mentions",
    "replies": "mail_replies",
    "moderation": "mail_moderation",
    "digest": "mail_digest",
}
"""Each mail category and the `NotificationSettings` switch that turns it on or off."""


def visible_notifications(viewer: Viewer) -> Select[Notification]:
    """The viewer's own notifications that the visibility rule lets them see, newest first (the digest's too)."""
    entry_seen = or_(Notification.entry_id.is_(None), visible_entries(viewer))
    comment_seen = or_(Notification.comment_id.is_(None), readable_comments(viewer))
    readable_finding = select(Finding.id).where(Finding.id == Notification.finding_id, visible_findings(viewer))
    finding_seen = or_(Notification.finding_id.is_(None), readable_finding.exists())
    return (
        select(Notification)
        .outerjoin(Entry, Entry.id == Notification.entry_id)
        .outerjoin(Comment, Comment.id == Notification.comment_id)
        .where(Notification.user_id == viewer.user_id)
        .where(or_(Notification.kind == NotificationKind.MODERATION, and_(entry_seen, comment_seen, finding_seen)))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def shown_notifications(viewer: Viewer) -> Select[Notification]:
    """The viewer's notifications listed in the app: visible to them, and not kept only for their digest."""
    return visible_notifications(viewer).where(Notification.in_app.is_(True))


def notifications_page(viewer: Viewer, number: int, per_page: int) -> Page:
    """One page of the viewer's notifications, newest first."""
    return paginate(shown_notifications(viewer), number, per_page)


_ANY_UNREAD = (
    select(Notification.id).where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)).limit(1)
)
"""Built once: most pages are seen by someone with nothing unread, who needs no more than this."""


def unread_count(viewer: Viewer) -> int:
    """How many of the viewer's notifications are unread and still visible to them.

    One small query when nothing is unread (every page's header asks); the count through
    the visibility rule otherwise.
    """
    if not viewer.is_authenticated:
        return 0
    if db.session.scalar(_ANY_UNREAD, {"user_id": viewer.user_id}) is None:
        return 0
    query = shown_notifications(viewer).where(Notification.read_at.is_(None)).order_by(None)
    return db.session.scalar(select(func.count()).select_from(query.with_only_columns(Notification.id).subquery())) or 0


def shown_notification(viewer: Viewer, notification_id: int) -> Notification | None:
    """One of the viewer's notifications if they may still see it; else None."""
    return db.session.scalar(shown_notifications(viewer).where(Notification.id == notification_id))


def settings_for(user_id: int) -> NotificationSettings:
    """The person's settings; defaults (all on), not yet added to the session, when they have none."""
    found = db.session.get(NotificationSettings, user_id)
    if found is not None:
        return found
    return NotificationSettings(
        user_id=user_id, mail_mentions=True, mail_replies=True, mail_moderation=True, mail_digest=True
    )


def wants_mail(user_id: int, category: str) -> bool:
    """Whether the person has `category` mail (a key of `SETTING_FIELDS`, or a topic mailed at once) switched on."""
    if category in BY_KEY:
        return choice_for(user_id, category).delivery == MailDelivery.NOW
    return bool(getattr(settings_for(user_id), SETTING_FIELDS[category]))


def choice_for(user_id: int, topic: str) -> Choice:
    """How the person wants to hear of `topic` (a key of `topics.BY_KEY`).

    Someone who never chose has the default that follows their older switch (`topics.default_choice`).
    """
    if topic not in BY_KEY:
        raise ValueError(f"unknown topic {topic!r}")
    stored = db.session.get(NotificationChoice, (user_id, topic))
    if stored is None:
        settings = settings_for(user_id)
        return default_choice(BY_KEY[topic], bool(getattr(settings, SETTING_FIELDS[BY_KEY[topic].older_switch])))
    return Choice(in_app=stored.in_app, delivery=stored.delivery)


def choices_for(user_id: int) -> dict[str, Choice]:
    """How the person wants to hear of every topic, by key, defaults filled in from their older switches."""
    stored = {
        row.topic: Choice(in_app=row.in_app, delivery=row.delivery)
        for row in db.session.scalars(select(NotificationChoice).where(NotificationChoice.user_id == user_id))
        if row.topic in BY_KEY
    }
    settings = settings_for(user_id)
    return {
        topic.key: stored.get(topic.key)
        or default_choice(topic, bool(getattr(settings, SETTING_FIELDS[topic.older_switch])))
        for topic in TOPICS
    }


def find_follow(user_id: int, target_type: str, target_id: int) -> Follow | None:
    """The person's follow of one target, if there is one."""
    return db.session.scalar(
        select(Follow).where(
            Follow.user_id == user_id, Follow.target_type == target_type, Follow.target_id == target_id
        )
    )


def entry_theme_ids(entry_id: int) -> list[int]:
    """The themes an entry belongs to through its tags."""
    query = (
        select(Tag.theme_id)
        .join(entry_tags, entry_tags.c.tag_id == Tag.id)
        .where(entry_tags.c.entry_id == entry_id, Tag.theme_id.is_not(None))
        .distinct()
    )
    return [theme_id for theme_id in db.session.scalars(query) if theme_id is not None]


def followers_of_entry(entry: Entry) -> set[int]:
    """Everyone following the entry, one of its themes, or its review (a review's own entry too)."""
    targets = [and_(Follow.target_type == FollowTarget.ENTRY, Follow.target_id == entry.id)]
    review_id = entry.id if entry.kind == EntryKind.REVIEW else entry.review_id
    if review_id is not None:
        targets.append(and_(Follow.target_type == FollowTarget.REVIEW, Follow.target_id == review_id))
    theme_ids = entry_theme_ids(entry.id)
    if theme_ids:
        targets.append(and_(Follow.target_type == FollowTarget.THEME, Follow.target_id.in_(theme_ids)))
    return set(db.session.scalars(select(Follow.user_id).where(or_(*targets))))


@dataclass(frozen=True)
class FollowedItem:
    """One line of a person's "Following" list."""

    follow: Follow
    title: str
    path: str
    kind_label: str


def followed_items(viewer: Viewer) -> list[FollowedItem]:
    """What the viewer follows, with titles and addresses; entries they can no longer see are left out."""
    follows = list(db.session.scalars(select(Follow).where(Follow.user_id == viewer.user_id).order_by(Follow.id)))
    entry_ids = [
        follow.target_id for follow in follows if follow.target_type in (FollowTarget.ENTRY, FollowTarget.REVIEW)
    ]
    theme_ids = [follow.target_id for follow in follows if follow.target_type == FollowTarget.THEME]
    entries = {
        entry.id: entry
        for entry in db.session.scalars(select(Entry).where(Entry.id.in_(entry_ids), visible_entries(viewer)))
    }
    themes = {theme.id: theme for theme in db.session.scalars(select(Theme).where(Theme.id.in_(theme_ids)))}
    items: list[FollowedItem] = []
    for follow in follows:
        if follow.target_type == FollowTarget.THEME and follow.target_id in themes:
            theme = themes[follow.target_id]
            items.append(FollowedItem(follow, theme.label, f"/themes/{theme.slug}", "Theme"))
        elif follow.target_type != FollowTarget.THEME and follow.target_id in entries:
            entry = entries[follow.target_id]
            label = "Review and its entries" if follow.target_type == FollowTarget.REVIEW else entry.kind.capitalize()
            items.append(FollowedItem(follow, entry.title, entry.path, label))
    return items


def active_people() -> list[tuple[int, str]]:
    """The id and display name of every active account, for resolving @handles."""
    return [
        (row.id, row.display_name) for row in db.session.execute(select(User.id, User.display_name).where(User.active))
    ]


def staff_to_tell() -> list[User]:
    """Every active moderator and admin."""
    return list(db.session.scalars(select(User).where(User.active, User.role.in_((Role.MODERATOR, Role.ADMIN)))))
