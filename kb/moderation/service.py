"""Flags and the decisions moderators take on flagged (or any) comments and entries.

A member flags a comment or an entry they can see, once per item. A moderator then
hides, restores or removes the item, or dismisses its flags; each decision resolves
every open flag on the item, records an audit event and tells the item's author.
Services flush; the route commits once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kb.audit.service import record_event
from kb.comments.models import Comment
from kb.contributions.service import mark_status
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.entries.service import rerender_entries_linking_to
from kb.entries.vocabulary import KINDS
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.moderation.models import FLAG_REASONS, Flag, flag_target_key
from kb.moderation.revisions import save_entry_state
from kb.notifications import service as notifications
from kb.permissions import PermissionDeniedError, can_read_comment, require, viewer_for
from kb.states import CommentStatus, EntryStatus, FlagReason
from kb.users.models import User

NOTE_MAX = 2_000
REASON_MAX = 2_000
DECISIONS: dict[str, str] = {
    "hide": "Hide",
    "restore": "Restore",
    "remove": "Remove",
    "dismiss": "Dismiss the flags",
}
"""What a moderator can do about a flagged item, with the label of its button."""
RESOLUTION_OF: dict[str, str] = {
    "hide": "hidden",
    "restore": "restored",
    "remove": "removed",
    "dismiss": "dismissed",
}
REASON_NEEDED = frozenset({"hide", "remove"})
"""Decisions whose reason is required: the author is shown it."""


class ModerationError(InvalidInputError):
    """A flag or a decision that cannot be taken; the message says why, for the person asking."""


class AlreadyFlaggedError(ModerationError):
    """The reporter has already flagged this item."""


@dataclass(frozen=True)
class Decided:
    """What a decision did: the item's new state in words, and how many flags it resolved."""

    summary: str
    flags_resolved: int


# --- Raising a flag ------------------------------------------------------------------------------


def _check_flag_input(reason: str, note: str) -> str:
    """The note, cleaned; raises ModerationError for an unknown reason or a missing or long note."""
    if reason not in FLAG_REASONS:
        raise ModerationError("Choose why this needs a moderator's look.")
    note = note.strip()
    if reason == FlagReason.OTHER and not note:
        raise ModerationError("Say what is wrong: you chose something else.")
    if len(note) > NOTE_MAX:
        raise ModerationError(f"The note must be {NOTE_MAX:,} characters or fewer; it has {len(note):,}.")
    return note


def has_flagged(user: User, entry: Entry, comment: Comment | None = None) -> bool:
    """Whether `user` has already flagged this comment (or, without one, this entry)."""
    key = flag_target_key(entry.id, comment.id if comment is not None else None)
    found = db.session.scalar(select(Flag.id).where(Flag.reporter_id == user.id, Flag.target_key == key))
    return found is not None


def raise_flag(entry: Entry, *, actor: User, reason: str, note: str = "", comment: Comment | None = None) -> Flag:
    """Flag `comment` (on `entry`) or, without one, `entry` itself for the moderators.

    Records `flag.raise` and tells the moderators. Raises PermissionDeniedError when the
    actor may not see the item, AlreadyFlaggedError for a second flag on the same item
    (when two arrive at once, after the failed flush: the caller rolls back), and
    ModerationError for a missing reason or note.
    """
    require(actor, "flag.raise", entry)
    if comment is not None and (comment.entry_id != entry.id or not can_read_comment(viewer_for(actor), comment)):
        raise PermissionDeniedError("flag.raise")
    note = _check_flag_input(reason, note)
    if has_flagged(actor, entry, comment):
        raise AlreadyFlaggedError(_already_message(comment))
    flag = Flag(
        target_key=flag_target_key(entry.id, comment.id if comment is not None else None),
        entry_id=entry.id,
        comment_id=comment.id if comment is not None else None,
        reporter_id=actor.id,
        reason=reason,
        note=note,
    )
    db.session.add(flag)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request flagged it first; the caller rolls the transaction back.
        raise AlreadyFlaggedError(_already_message(comment)) from None
    record_event("flag.raise", actor=actor, target=comment or entry, new=FLAG_REASONS[reason])
    notifications.flag_raised(flag)
    db.session.flush()
    return flag


def _already_message(comment: Comment | None) -> str:
    item = "comment" if comment is not None else "entry"
    return f"You have already flagged this {item}. The moderators will look at it."


# --- Deciding ------------------------------------------------------------------------------------


def open_flags(entry: Entry, comment: Comment | None = None) -> list[Flag]:
    """The flags on this comment (or, without one, this entry) that no moderator has acted on, oldest first."""
    key = flag_target_key(entry.id, comment.id if comment is not None else None)
    query = select(Flag).where(Flag.target_key == key, Flag.resolution.is_(None)).order_by(Flag.created_at, Flag.id)
    return list(db.session.scalars(query))


def _resolve_flags(entry: Entry, comment: Comment | None, resolution: str, actor: User) -> int:
    flags = open_flags(entry, comment)
    now = utcnow()
    for flag in flags:
        flag.resolution = resolution
        flag.resolved_by_id = actor.id
        flag.resolved_at = now
    return len(flags)


def _check_reason(decision: str, reason: str) -> str:
    if decision not in DECISIONS:
        raise ModerationError("Choose hide, restore, remove or dismiss.")
    reason = reason.strip()
    if decision in REASON_NEEDED and not reason:
        raise ModerationError("Give a reason; the author will see it.")
    if len(reason) > REASON_MAX:
        raise ModerationError(f"The reason must be {REASON_MAX:,} characters or fewer; it has {len(reason):,}.")
    return reason


COMMENT_STATUS_AFTER = {"hide": "hidden", "restore": "visible", "remove": "removed"}
COMMENT_ALLOWED_FROM = {
    "hide": frozenset({CommentStatus.VISIBLE}),
    "restore": frozenset({CommentStatus.HIDDEN, CommentStatus.REMOVED}),
    "remove": frozenset({CommentStatus.VISIBLE, CommentStatus.HIDDEN}),
}


def decide_comment(comment: Comment, decision: str, *, actor: User, reason: str = "") -> Decided:
    """Hide, restore or remove a comment, or dismiss its flags; resolves its open flags either way.

    Hiding and removing need a reason, which the author is shown and told. Raises
    PermissionDeniedError for someone who is not a moderator, ModerationError for a
    missing reason or a change that does not fit the comment's status.
    """
    entry = comment.entry
    require(actor, "comment.moderate", entry)
    reason = _check_reason(decision, reason)
    if decision != "dismiss" and comment.status not in COMMENT_ALLOWED_FROM[decision]:
        raise ModerationError(f"This comment cannot be {RESOLUTION_OF[decision]}: it is {comment.status}.")
    resolved = _resolve_flags(entry, comment, RESOLUTION_OF[decision], actor)
    if decision == "dismiss":
        if not resolved:
            raise ModerationError("This comment has no open flags to dismiss.")
        record_event("flag.dismiss", actor=actor, target=comment, new=f"{resolved} flag(s)")
        notifications.moderation_decided(
            comment.author, entry=entry, comment=comment, actor=actor, message=_dismissed_message("comment", entry)
        )
        db.session.flush()
        return Decided("Its flags were dismissed; the comment is unchanged.", resolved)
    old = comment.status
    comment.status = COMMENT_STATUS_AFTER[decision]
    comment.status_reason = reason or None
    comment.moderated_by_id = actor.id
    comment.moderated_at = utcnow()
    record_event(f"comment.{decision}", actor=actor, target=comment, old=old, new=_with_reason(comment.status, reason))
    notifications.moderation_decided(
        comment.author, entry=entry, comment=comment, actor=actor, message=_comment_message(decision, entry, reason)
    )
    db.session.flush()
    return Decided(f"The comment is now {comment.status}.", resolved)


def _dismissed_message(item: str, entry: Entry) -> str:
    where = "" if item != "comment" else f' on "{entry.title}"'
    title = "" if item == "comment" else f' "{entry.title}"'
    return f"A moderator looked at a report about your {item}{title}{where} and left it as it was."


def _with_reason(status: str, reason: str) -> str:
    return f"{status}: {reason}" if reason else status


def _comment_message(decision: str, entry: Entry, reason: str) -> str:
    done = {"hide": "hid", "restore": "restored", "remove": "removed"}[decision]
    message = f'A moderator {done} your comment on "{entry.title}".'
    return f"{message} Reason: {reason}" if reason else message


ENTRY_STATUS_AFTER = {"hide": "hidden", "restore": "published", "remove": "removed"}
ENTRY_ALLOWED_FROM = {
    "hide": frozenset({EntryStatus.PUBLISHED}),
    "restore": frozenset({EntryStatus.HIDDEN, EntryStatus.REMOVED}),
    "remove": frozenset({EntryStatus.PUBLISHED, EntryStatus.HIDDEN}),
}


def decide_entry(entry: Entry, decision: str, *, actor: User, reason: str = "") -> Decided:
    """Hide, restore (publish again) or remove an entry, or dismiss its flags; resolves its open flags.

    The new status is saved as a revision, as every status change is; hiding keeps the
    reason as the entry's status note, shown to its author. Raises PermissionDeniedError,
    ModerationError (missing reason, or a change that does not fit the entry's status).
    """
    require(actor, "entry.moderate", entry)
    reason = _check_reason(decision, reason)
    if decision != "dismiss" and entry.status not in ENTRY_ALLOWED_FROM[decision]:
        raise ModerationError(f'"{entry.title}" cannot be {RESOLUTION_OF[decision]}: it is {entry.status}.')
    resolved = _resolve_flags(entry, None, RESOLUTION_OF[decision], actor)
    if decision == "dismiss":
        if not resolved:
            raise ModerationError("This entry has no open flags to dismiss.")
        record_event("flag.dismiss", actor=actor, target=entry, new=f"{resolved} flag(s)")
        notifications.moderation_decided(
            entry.author, entry=entry, actor=actor, message=_dismissed_message(KINDS[entry.kind].lower(), entry)
        )
        db.session.flush()
        return Decided(f'Its flags were dismissed; "{entry.title}" is unchanged.', resolved)
    old = entry.status
    status = ENTRY_STATUS_AFTER[decision]
    message = f"{DECISIONS[decision]}: {reason}" if reason else DECISIONS[decision]
    save_entry_state(entry, actor=actor, message=message[:500], status=status)
    mark_status(entry, reason or None)
    record_event(f"entry.{decision}", actor=actor, target=entry, old=old, new=_with_reason(status, reason))
    rerender_entries_linking_to([entry])
    notifications.moderation_decided(
        entry.author, entry=entry, actor=actor, message=_entry_message(decision, entry, reason)
    )
    db.session.flush()
    return Decided(f'"{entry.title}" is now {status}.', resolved)


def _entry_message(decision: str, entry: Entry, reason: str) -> str:
    done = {"hide": "hid", "restore": "published again", "remove": "removed"}[decision]
    message = f'A moderator {done} your {KINDS[entry.kind].lower()} "{entry.title}".'
    return f"{message} Reason: {reason}" if reason else message


def available_decisions(entry: Entry, comment: Comment | None = None, *, flagged: bool = False) -> list[str]:
    """The decisions that fit the item's status now (dismiss only when it has open flags), in `DECISIONS` order."""
    allowed_from: Mapping[str, frozenset[str]] = COMMENT_ALLOWED_FROM if comment is not None else ENTRY_ALLOWED_FROM
    status = comment.status if comment is not None else entry.status
    fitting = [decision for decision, statuses in allowed_from.items() if status in statuses]
    return [decision for decision in DECISIONS if decision in fitting or (decision == "dismiss" and flagged)]
