"""Telling people what happened: in-app notifications, immediate mail, and follows for the digest.

Services elsewhere call the three entry points below after they flush a change; every
notification is written in the same transaction as the change it reports, and mail goes
out only after the commit (`kb.mail.queue_mail`).

A new comment tells each person once, by the strongest reason they have: mentioned
(mailed now), replied to (mailed now), or following the entry, one of its themes or its
review (kept for the daily digest). Nobody is told of their own comment, and nobody is
told of a comment on an entry they may not see or a comment they may not read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.comments.models import Comment
from kb.consultations.models import Consultation
from kb.consultations.models import Response as ConsultationResponse
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.errors import NotFoundError
from kb.extensions import db
from kb.mail import queue_mail, site_link
from kb.notifications import choices, digest, mails, queries
from kb.notifications.mentions import find_handles, resolve_handles
from kb.notifications.models import FOLLOW_TARGETS, Follow, Notification, NotificationSettings
from kb.notifications.topics import BY_KEY
from kb.permissions import PermissionDeniedError, can_read_comment, can_view_consultation, can_view_entry, viewer_for
from kb.states import EntryKind, FollowTarget, NotificationKind, ResponseStatus
from kb.taxonomy.models import Theme
from kb.users.models import User

if TYPE_CHECKING:
    from kb.moderation.models import Flag

STRENGTH: dict[str, int] = {"mention": 3, "reply": 2, "follow": 1}
"""Which reason wins when one person has several for hearing of the same comment."""
MENTION_LIMIT = 10
"""Only the first ten distinct @handles in a comment tell anyone, so one comment cannot mail the whole site."""
MAIL_CATEGORY: dict[str, str] = {
    "mention": "mentions",
    "reply": "replies",
    "moderation": "moderation",
    "flag": "moderation",
    "outcome": "replies",
}
"""The settings switch that decides whether each kind of notification is mailed at once."""


class FollowError(NotFoundError):
    """The thing to follow does not exist, or the person may not see it."""


def _reasons(comment: Comment, entry: Entry) -> dict[int, str]:
    """Each person a new comment concerns, with the strongest reason they have."""
    reasons: dict[int, str] = dict.fromkeys(queries.followers_of_entry(entry), "follow")

    def give(user_id: int | None, kind: str) -> None:
        if user_id is not None and STRENGTH[kind] > STRENGTH.get(reasons.get(user_id, ""), 0):
            reasons[user_id] = kind

    if comment.parent_id is not None:
        give(db.session.scalar(select(Comment.author_id).where(Comment.id == comment.parent_id)), "reply")
    for user_id in mentioned_people(comment.body).values():
        give(user_id, "mention")
    return reasons


def mentioned_people(body: str) -> dict[str, int]:
    """The @handles in a comment's Markdown that name exactly one active person, with their ids."""
    handles = find_handles(body)[:MENTION_LIMIT]
    if not handles:
        return {}
    return resolve_handles(handles, queries.active_people()).people


def mention_names(body: str) -> dict[str, str]:
    """Each @handle in a comment's Markdown that names exactly one active person, with their display name.

    For marking mentions in the rendered comment: `mentions.mark_mentions(html, mention_names(body))`.
    """
    people = mentioned_people(body)
    if not people:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(people.values())))
    names = {user_id: name for user_id, name in rows}
    return {handle: names[user_id] for handle, user_id in people.items() if user_id in names}


def _message(kind: str, actor: User | None, entry: Entry) -> str:
    who = actor.display_name if actor else "Someone"
    return {
        "mention": f"{who} mentioned you in a comment on “{entry.title}”",
        "reply": f"{who} replied to your comment on “{entry.title}”",
        "follow": f"{who} commented on “{entry.title}”",
    }[kind]


def _may_hear_of(user: User, entry: Entry, comment: Comment) -> bool:
    viewer = viewer_for(user)
    return can_view_entry(viewer, entry) and can_read_comment(viewer, comment)


def comment_posted(comment: Comment, *, actor: User) -> list[Notification]:
    """Tell the people a new comment concerns: those it @mentions, the author it replies to, followers.

    Mentions and replies are mailed after the commit (by each person's settings);
    follows wait for the daily digest. Returns the notifications written (flushed).
    """
    return _tell_about_comment(comment, _reasons(comment, comment.entry), actor=actor)


def comment_edited(comment: Comment, *, actor: User, previous_body: str) -> list[Notification]:
    """Tell only the people an edit newly @mentions; nobody else hears of an edit."""
    before = set(mentioned_people(previous_body).values())
    reasons = {user_id: "mention" for user_id in mentioned_people(comment.body).values() if user_id not in before}
    return _tell_about_comment(comment, reasons, actor=actor)


def _tell_about_comment(comment: Comment, reasons: dict[int, str], *, actor: User) -> list[Notification]:
    entry = comment.entry
    reasons.pop(actor.id, None)
    if not reasons:
        return []
    people = db.session.scalars(
        select(User).where(User.id.in_(reasons), User.active).options(selectinload(User.panel_seats))
    ).all()
    written = []
    for person in sorted(people, key=lambda user: user.id):
        if not _may_hear_of(person, entry, comment):
            continue
        kind = reasons[person.id]
        notification = Notification(
            user_id=person.id,
            kind=kind,
            entry_id=entry.id,
            comment_id=comment.id,
            actor_id=actor.id,
            message=_message(kind, actor, entry),
            link=comment.permalink,
        )
        db.session.add(notification)
        written.append((person, notification))
    db.session.flush()
    for person, notification in written:
        if notification.kind != NotificationKind.FOLLOW:
            _mail_now(person, notification, _comment_paragraphs(notification, comment))
    return [notification for _, notification in written]


def _comment_paragraphs(notification: Notification, comment: Comment) -> list[str]:
    return [
        f"{notification.message}:",
        mails.excerpt(comment.body),
        f"Read it and reply: {site_link(notification.link)}",
    ]


def _mail_now(person: User, notification: Notification, paragraphs: list[str]) -> bool:
    """Queue the mail for one notification if the person wants that kind; records when it went."""
    category = MAIL_CATEGORY[notification.kind]
    if not person.active or not queries.wants_mail(person.id, category):
        return False
    queue_mail(mails.compose(person, category, notification.message, paragraphs))
    notification.mailed_at = utcnow()
    return True


def write_notification(
    recipient: User, *, kind: str, entry: Entry | None, actor: User | None, message: str, link: str
) -> Notification:
    """Add one in-app notification for `recipient` (flushed), for a caller that mails about it itself.

    Every event kb mails to a person about their work is listed on their notifications
    page too; the caller sets `mailed_at` when it queues the mail.
    """
    notification = Notification(
        user_id=recipient.id,
        kind=kind,
        entry_id=entry.id if entry is not None else None,
        actor_id=actor.id if actor is not None else None,
        message=message,
        link=link,
    )
    db.session.add(notification)
    db.session.flush()
    return notification


def moderation_decided(
    recipient: User | None, *, entry: Entry, message: str, actor: User | None, comment: Comment | None = None
) -> Notification | None:
    """Tell `recipient` (an author) what a moderator decided about their comment or entry, now and by mail.

    Nobody is told of their own decision. Returns the notification written, if any.
    """
    if recipient is None or not recipient.active or (actor is not None and actor.id == recipient.id):
        return None
    notification = Notification(
        user_id=recipient.id,
        kind="moderation",
        entry_id=entry.id,
        comment_id=comment.id if comment is not None else None,
        actor_id=actor.id if actor else None,
        message=message,
        link=comment.permalink if comment is not None else entry.path,
    )
    db.session.add(notification)
    db.session.flush()
    what = "your comment" if comment is not None else "your entry"
    _mail_now(
        recipient,
        notification,
        [f"A moderator made a decision about {what} on “{entry.title}”:", message, site_link(notification.link)],
    )
    return notification


def flag_raised(flag: Flag) -> list[Notification]:
    """Tell every active moderator and admin (but the one who flagged) that a new flag waits."""
    entry = flag.entry
    what = "a comment on" if flag.comment_id is not None else "the entry"
    message = f"{flag.reporter.display_name} flagged {what} “{entry.title}” ({flag.reason.replace('-', ' ')})"
    link = flag.comment.permalink if flag.comment is not None else entry.path
    written = []
    for moderator in queries.staff_to_tell():
        if moderator.id == flag.reporter_id:
            continue
        notification = Notification(
            user_id=moderator.id,
            kind="flag",
            entry_id=entry.id,
            comment_id=flag.comment_id,
            actor_id=flag.reporter_id,
            message=message,
            link=link,
        )
        db.session.add(notification)
        written.append((moderator, notification))
    db.session.flush()
    for moderator, notification in written:
        note = [f"Their note: {flag.note}"] if flag.note else []
        _mail_now(moderator, notification, [f"{message}.", *note, f"See it: {site_link(link)}"])
    return [notification for _, notification in written]


def outcome_published(consultation: Consultation, *, actor: User | None, link: str) -> list[Notification]:
    """Tell each member who submitted a response that the consultation's "you said, we did" page is out.

    Only active people who may still read the consultation are told, and not the one who
    published it; each is mailed now if they have reply mail on. Returns the notifications written.
    """
    people = db.session.scalars(
        select(User)
        .join(ConsultationResponse, ConsultationResponse.user_id == User.id)
        .where(
            ConsultationResponse.consultation_id == consultation.id,
            ConsultationResponse.status == ResponseStatus.SUBMITTED,
        )
        .where(User.active)
        .options(selectinload(User.panel_seats))
        .order_by(User.id)
    ).all()
    message = f"The panel has reported back on “{consultation.title}”: what we asked, what you said, what we did"
    written = []
    for person in people:
        if (actor is not None and person.id == actor.id) or not can_view_consultation(viewer_for(person), consultation):
            continue
        notification = Notification(
            user_id=person.id,
            kind="outcome",
            entry_id=consultation.entry_id,
            actor_id=actor.id if actor else None,
            message=message,
            link=link,
        )
        db.session.add(notification)
        written.append((person, notification))
    db.session.flush()
    for person, notification in written:
        paragraphs = [f"{message}.", "Thank you for your response.", f"Read it: {site_link(link)}"]
        _mail_now(person, notification, paragraphs)
    return [notification for _, notification in written]


# --- Reading -------------------------------------------------------------------------------------


def mark_read(notification: Notification) -> None:
    """Mark one notification read (once: the first time is kept)."""
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.flush()


def mark_all_read(user: User) -> int:
    """Mark every unread notification of `user` read; returns how many were."""
    unread = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).all()
    now = utcnow()
    for notification in unread:
        notification.read_at = now
    db.session.flush()
    return len(unread)


# --- Following -----------------------------------------------------------------------------------


def _check_target(user: User, target_type: str, target_id: int) -> None:
    """Raise `FollowError` unless `target_type` can be followed and the person may see the target."""
    if target_type not in FOLLOW_TARGETS:
        raise FollowError(f"cannot follow a {target_type}")
    if target_type == FollowTarget.THEME:
        if db.session.get(Theme, target_id) is None:
            raise FollowError("no such theme")
        return
    entry = db.session.get(Entry, target_id)
    if entry is None or not can_view_entry(viewer_for(user), entry):
        raise FollowError("no such entry")
    if (target_type == FollowTarget.REVIEW) != (entry.kind == EntryKind.REVIEW):
        raise FollowError("only a review is followed as a review")


def follow(user: User, target_type: str, target_id: int) -> Follow:
    """Start following an entry, a theme or a review; following twice changes nothing.

    Raises `PermissionDeniedError` for a signed-out or deactivated person, `FollowError`
    for something that does not exist or that they may not see.
    """
    if not viewer_for(user).is_authenticated:
        raise PermissionDeniedError("follow")
    _check_target(user, target_type, target_id)
    existing = queries.find_follow(user.id, target_type, target_id)
    if existing is not None:
        return existing
    created = Follow(user_id=user.id, target_type=target_type, target_id=target_id)
    db.session.add(created)
    db.session.flush()
    return created


def unfollow(user: User, target_type: str, target_id: int) -> bool:
    """Stop following; returns False when the person was not following it."""
    existing = queries.find_follow(user.id, target_type, target_id)
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    return True


# --- Settings ------------------------------------------------------------------------------------


def _stored_settings(user: User) -> NotificationSettings:
    settings = queries.settings_for(user.id)
    if settings not in db.session:
        db.session.add(settings)
    return settings


def update_settings(user: User, switches: dict[str, bool]) -> NotificationSettings:
    """Set the person's mail switches; `switches` maps categories (`mentions`, ...) to on or off.

    Turning the digest of follows back on passes over the follows told while it was off
    (`digest.pass_over_follows`), so the next digest holds no backlog.
    """
    settings = _stored_settings(user)
    digest_was_off = settings.mail_digest is False
    for category, on in switches.items():
        setattr(settings, queries.SETTING_FIELDS[category], bool(on))
    settings.updated_at = utcnow()
    if digest_was_off and settings.mail_digest:
        digest.pass_over_follows(user, settings.updated_at)
    db.session.flush()
    return settings


def set_mail(user: User, category: str, *, on: bool, restore: str | None = None) -> str | None:
    """Turn one kind of mail on or off (the unsubscribe link and its undo button); a topic's goes through `choices`.

    For a topic, `restore` is the delivery to turn it back on as, and the delivery it had before
    is returned (None for the older switches).
    """
    if category in BY_KEY:
        return choices.set_topic_mail(user, category, on=on, restore=restore)
    update_settings(user, {category: on})
    return None
