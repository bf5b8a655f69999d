"""Curating entries: merging a duplicate into another, featuring, locking discussion, maturity and action status.

Every verb checks `entry.curate`, records an audit event and flushes; the route commits.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, delete, select

from kb.actions import service as actions
from kb.audit.service import record_event
from kb.comments.models import Comment
from kb.contributions.service import mark_status
from kb.dates import utcnow
from kb.documents.models import Document
from kb.documents.queries import current_documents
from kb.documents.service import free_filename
from kb.entries.models import Entry, EntryLink, Lesson
from kb.entries.service import rerender_entries_linking_to
from kb.entries.vocabulary import ACTION_STATUSES, KINDS, MATURITIES
from kb.extensions import db
from kb.moderation.models import Flag, flag_target_key
from kb.moderation.revisions import add_tags, save_entry_state
from kb.moderation.service import ModerationError
from kb.notifications import service as notifications
from kb.notifications.models import Follow, Notification
from kb.panels.models import Citation
from kb.permissions import audience_contains, can_view_entry, require, viewer_for
from kb.search.lifecycle import queue_for_indexing
from kb.states import EntryStatus, FollowTarget
from kb.users.models import User

MERGEABLE_FROM = frozenset(
    {
        EntryStatus.PUBLISHED,
        EntryStatus.HIDDEN,
        EntryStatus.DRAFT,
        EntryStatus.SUBMITTED,
        EntryStatus.RETURNED,
        EntryStatus.REJECTED,
    }
)
MERGEABLE_INTO = frozenset({EntryStatus.PUBLISHED, EntryStatus.HIDDEN})


# --- Merging -------------------------------------------------------------------------------------


def check_merge(duplicate: Entry, target: Entry) -> None:
    """Raise ModerationError unless `duplicate` may be merged into `target`."""
    if duplicate.id == target.id:
        raise ModerationError("Choose another entry: an entry cannot be merged into itself.")
    if duplicate.kind != target.kind:
        raise ModerationError(
            f"Choose another {KINDS[duplicate.kind].lower()}: "
            f'"{target.title}" is a {KINDS[target.kind].lower()}, so the two cannot be merged.'
        )
    if duplicate.status not in MERGEABLE_FROM:
        raise ModerationError(f'"{duplicate.title}" cannot be merged: it is {duplicate.status}.')
    if target.status not in MERGEABLE_INTO:
        raise ModerationError(f'Choose another entry: "{target.title}" is {target.status}.')
    has_comments = db.session.scalar(select(Comment.id).where(_moving_comments(duplicate)).limit(1))
    if has_comments is not None and not audience_contains(duplicate, target):
        raise ModerationError(
            f'"{duplicate.title}" has comments written for fewer readers than "{target.title}" has: merging '
            "would show them to people who could not read them. Choose an entry with the same readers, or "
            "change the visibility of one of them first."
        )
    has_documents = db.session.scalar(select(Document.id).where(Document.entry_id == duplicate.id).limit(1))
    if has_documents is not None and not audience_contains(duplicate, target):
        raise ModerationError(
            f'"{duplicate.title}" has documents meant for fewer readers than "{target.title}" has: merging '
            "would show them to people who could not read them. Choose an entry with the same readers, or "
            "change the visibility of one of them first."
        )


def merge_entry(duplicate: Entry, target: Entry, *, actor: User) -> None:
    """Merge `duplicate` into `target`: its address then leads to the target.

    The duplicate's status becomes `merged` (saved as a revision) and its comments, documents
    (with their history), links, flags, follows and citations move to the target, whose tags
    gain the duplicate's. Links and follows that would repeat one the target has, or point at
    itself, are dropped; a document whose name the target already lists gets a suffix (`-2`).
    Raises PermissionDeniedError, ModerationError (see `check_merge`).
    """
    require(actor, "entry.curate", duplicate)
    require(actor, "entry.curate", target)
    carry_out_merge(duplicate, target, actor=actor)


def carry_out_merge(duplicate: Entry, target: Entry, *, actor: User | None) -> None:
    """Merge `duplicate` into `target` as `merge_entry` does, without asking whether `actor` may.

    For `merge_entry`, once it has asked, and for a content file whose `replaces:` names
    the duplicate (actor None: the content import, recorded as the system). Raises
    ModerationError (see `check_merge`).
    """
    check_merge(duplicate, target)
    old_status = duplicate.status
    message = f"Merged into {target.title}"
    save_entry_state(duplicate, actor=actor, message=message, status=str(EntryStatus.MERGED))
    mark_status(duplicate, message)
    duplicate.merged_into_id = target.id
    duplicate.featured_at = None
    rerender_entries_linking_to([duplicate])
    add_tags(target, [tag.slug for tag in duplicate.tags], actor=actor, message=f"Tags from {duplicate.title}")
    _move_comments(duplicate, target)
    _move_documents(duplicate, target)
    _move_links(duplicate, target)
    _move_flags(duplicate, target)
    _move_follows(duplicate, target)
    _move_citations(duplicate, target)
    _repoint_earlier_merges(duplicate, target)
    record_event("entry.merge", actor=actor, target=duplicate, old=old_status, new=f"merged into {target.slug}")
    _tell_merged_author(duplicate, target, actor=actor)
    db.session.flush()


def _tell_merged_author(duplicate: Entry, target: Entry, *, actor: User | None) -> None:
    """Tell the duplicate's author where it went, naming the target only if they may read it."""
    author = duplicate.author
    what = f'your {KINDS[duplicate.kind].lower()} "{duplicate.title}"'
    if author is not None and can_view_entry(viewer_for(author), target):
        message, about = f'A moderator merged {what} into "{target.title}".', target
    else:
        message, about = f"A moderator merged {what} into another entry that repeats it.", duplicate
    notifications.moderation_decided(author, entry=about, actor=actor, message=message)


def _moving_comments(duplicate: Entry) -> ColumnElement[bool]:
    """SQL condition on `Comment`: the duplicate's comments that a merge moves.

    A review's findings stay with it, and so do their discussions (read by its panel only).
    """
    return and_(Comment.entry_id == duplicate.id, Comment.finding_id.is_(None))


def _move_comments(duplicate: Entry, target: Entry) -> None:
    """Comments keep their threads (paths are comment ids) and move one by one, so the index sees both entries."""
    moving = list(db.session.scalars(select(Comment).where(_moving_comments(duplicate))))
    for comment in moving:
        comment.entry_id = target.id
        comment.entry = target
    db.session.flush()
    moved_ids = [comment.id for comment in moving]
    moved = select(Notification).where(Notification.entry_id == duplicate.id, Notification.comment_id.in_(moved_ids))
    for notification in db.session.scalars(moved):
        notification.entry_id = target.id


def _move_documents(duplicate: Entry, target: Entry) -> None:
    """Every version of the duplicate's files joins the target, so page citations and search follow them.

    A current file named as one of the target's current files is renamed with a suffix; the
    moved files are listed after the target's own.
    """
    documents = list(
        db.session.scalars(
            select(Document).where(Document.entry_id == duplicate.id).order_by(Document.position, Document.id)
        )
    )
    if not documents:
        return
    listed = current_documents(target)
    taken = {document.filename for document in listed}
    position = max((document.position for document in listed), default=-1) + 1
    for document in documents:
        if document.is_current:
            document.filename = free_filename(document.filename, taken)
            taken.add(document.filename)
            document.position, position = position, position + 1
        document.entry_id = target.id
        document.entry = target
    db.session.flush()
    queue_for_indexing(db.session(), {duplicate.id, target.id})


def _move_links(duplicate: Entry, target: Entry) -> None:
    links = list(
        db.session.scalars(
            select(EntryLink).where((EntryLink.source_id == duplicate.id) | (EntryLink.target_id == duplicate.id))
        )
    )
    existing: set[tuple[int, int, str]] = set(
        db.session.execute(
            select(EntryLink.source_id, EntryLink.target_id, EntryLink.relation).where(
                (EntryLink.source_id == target.id) | (EntryLink.target_id == target.id)
            )
        ).all()
    )
    dropped: list[int] = []
    for link in links:
        source_id = target.id if link.source_id == duplicate.id else link.source_id
        target_id = target.id if link.target_id == duplicate.id else link.target_id
        key = (source_id, target_id, link.relation)
        if source_id == target_id or key in existing:
            dropped.append(link.id)
            continue
        existing.add(key)
        link.source_id, link.target_id = source_id, target_id
    if dropped:
        db.session.execute(delete(EntryLink).where(EntryLink.id.in_(dropped)))
    db.session.flush()
    db.session.expire(duplicate, ["outgoing_links"])
    db.session.expire(target, ["outgoing_links"])


def _move_flags(duplicate: Entry, target: Entry) -> None:
    """Flags on the duplicate's comments follow them; flags on the duplicate itself become flags on the target.

    A reporter who flagged both keeps their flag on the target; the one on the duplicate
    stays with it, resolved as dismissed.
    """
    flagged_target = set(
        db.session.scalars(select(Flag.reporter_id).where(Flag.target_key == flag_target_key(target.id, None)))
    )
    target_key = flag_target_key(target.id, None)
    staying = select(Comment.id).where(Comment.entry_id == duplicate.id, Comment.finding_id.is_not(None))
    staying_ids = set(db.session.scalars(staying))
    for flag in db.session.scalars(select(Flag).where(Flag.entry_id == duplicate.id)):
        if flag.comment_id is not None:
            if flag.comment_id not in staying_ids:  # a finding's discussion stays with its review, and its flags
                flag.entry_id = target.id
        elif flag.reporter_id in flagged_target:
            if flag.resolution is None:
                flag.resolution, flag.resolved_at = "dismissed", utcnow()
        else:
            flag.entry_id, flag.target_key = target.id, target_key


def _move_follows(duplicate: Entry, target: Entry) -> None:
    followers = set(
        db.session.scalars(
            select(Follow.user_id).where(Follow.target_type == FollowTarget.ENTRY, Follow.target_id == target.id)
        )
    )
    for follow in db.session.scalars(
        select(Follow).where(Follow.target_type == FollowTarget.ENTRY, Follow.target_id == duplicate.id)
    ):
        if follow.user_id in followers:
            db.session.delete(follow)
        else:
            follow.target_id = target.id


def _move_citations(duplicate: Entry, target: Entry) -> None:
    """Findings that cited the duplicate cite the target; the quoted words stay as they were."""
    for citation in db.session.scalars(select(Citation).where(Citation.entry_id == duplicate.id)):
        citation.entry_id = target.id


def _repoint_earlier_merges(duplicate: Entry, target: Entry) -> None:
    """Entries merged into the duplicate earlier now lead straight to the target."""
    for earlier in db.session.scalars(select(Entry).where(Entry.merged_into_id == duplicate.id)):
        earlier.merged_into_id = target.id


def merged_into(entry: Entry) -> list[Entry]:
    """The entries merged into `entry`, most recently merged first."""
    query = (
        select(Entry)
        .where(Entry.merged_into_id == entry.id)
        .order_by(Entry.status_changed_at.desc().nulls_last(), Entry.id.desc())
    )
    return list(db.session.scalars(query))


# --- Featuring and locking -----------------------------------------------------------------------


def feature_entry(entry: Entry, *, actor: User) -> None:
    """Show a published entry in the home page's Featured section. Raises PermissionDeniedError, ModerationError."""
    require(actor, "entry.curate", entry)
    if entry.status != EntryStatus.PUBLISHED:
        raise ModerationError(f'Only published entries can be featured: "{entry.title}" is {entry.status}.')
    if entry.featured_at is not None:
        raise ModerationError(f'"{entry.title}" is already featured.')
    entry.featured_at = utcnow()
    record_event("entry.feature", actor=actor, target=entry)
    db.session.flush()


def unfeature_entry(entry: Entry, *, actor: User) -> None:
    """Take an entry out of the Featured section. Raises PermissionDeniedError, ModerationError."""
    require(actor, "entry.curate", entry)
    if entry.featured_at is None:
        raise ModerationError(f'"{entry.title}" is not featured.')
    entry.featured_at = None
    record_event("entry.unfeature", actor=actor, target=entry)
    db.session.flush()


def set_locked(entry: Entry, locked: bool, *, actor: User) -> None:
    """Lock (no new comments) or unlock an entry's discussion. Raises PermissionDeniedError, ModerationError."""
    require(actor, "entry.curate", entry)
    if entry.locked == locked:
        raise ModerationError(f'The discussion of "{entry.title}" is already {"locked" if locked else "open"}.')
    entry.locked = locked
    record_event("entry.lock" if locked else "entry.unlock", actor=actor, target=entry)
    db.session.flush()


# --- A lesson's maturity and action status -------------------------------------------------------


def _lesson(entry: Entry) -> Lesson:
    if not isinstance(entry, Lesson):
        raise ModerationError("Only lessons have a maturity and an action status.")
    return entry


def set_maturity(entry: Entry, maturity: str, *, actor: User) -> None:
    """Set a lesson's maturity, saved as a revision with `entry.maturity` audited (old and new).

    Learned only while the action is verified (`kb.actions.rules.maturity_problem`).
    Raises PermissionDeniedError, ModerationError (not a lesson, unknown or unchanged value, refused by the rules).
    """
    require(actor, "entry.curate", entry)
    lesson = _lesson(entry)
    if maturity not in MATURITIES:
        raise ModerationError("Choose one of the maturities listed.")
    old = lesson.maturity
    if old == maturity:
        raise ModerationError(f"The maturity is already {MATURITIES[maturity].lower()}.")
    try:
        actions.check_maturity(lesson, maturity)
    except actions.ActionError as error:
        raise ModerationError(str(error)) from None
    save_entry_state(
        lesson, actor=actor, message=f"Maturity: {MATURITIES[old]} to {MATURITIES[maturity]}", maturity=maturity
    )
    record_event("entry.maturity", actor=actor, target=lesson, old=old, new=maturity)
    db.session.flush()


def set_action_status(entry: Entry, action_status: str, *, actor: User) -> None:
    """Set the state of action on a lesson through `kb.actions.service`, whose rules and audit apply.

    Raises PermissionDeniedError, ModerationError (not a lesson, unknown or unchanged
    value, or a change the action rules refuse, with their reasons).
    """
    require(actor, "entry.curate", entry)
    lesson = _lesson(entry)
    if action_status not in ACTION_STATUSES:
        raise ModerationError("Choose one of the action statuses listed.")
    if lesson.action_status == action_status:
        raise ModerationError(f"The action status is already {ACTION_STATUSES[action_status].lower()}.")
    try:
        actions.set_action_status(lesson, action_status, actor=actor)
    except actions.ActionError as error:
        raise ModerationError(f"{error} Record the action's details from the lesson's action page.") from None
