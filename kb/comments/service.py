"""Posting and editing comments, and keeping a signed-out visitor's text as a draft.

Every verb checks the actor's right through `kb.permissions`, changes the models and
flushes; the route commits once. A refusal the writer can act on (too long, too deep,
a locked entry) raises a `CommentError` whose message is shown above their kept text.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, select

from kb.audit.service import client_address, record_event
from kb.comments.models import DRAFT_MAX_AGE, Comment, CommentDraft, CommentVersion, path_step
from kb.dates import utcnow
from kb.errors import ConflictError, InvalidInputError
from kb.extensions import db
from kb.markdown import render
from kb.notifications import finding_comments
from kb.notifications import service as notifications
from kb.notifications.mentions import mark_mentions
from kb.permissions import PermissionDeniedError, can, can_edit_comment, require, viewer_for
from kb.states import CommentStatus, EntryStatus
from kb.users.throttle import client_group

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.panels.models import Finding
    from kb.users.models import User

DEFAULT_MAX_CHARS = 10_000
PATH_SEPARATOR = "/"
"""Between the steps of a thread path: it sorts before every digit, so a parent reads before its replies."""
DEFAULT_MAX_DEPTH = 50


class CommentError(InvalidInputError):
    """A comment that cannot be posted or saved as it is; the message says why and what to do."""

    status = 400


class CommentLockedError(CommentError, ConflictError):
    """The entry's discussion is locked: no new comments, replies or edits."""

    status = 409


def max_chars() -> int:
    """The longest comment allowed (setting `COMMENT_MAX_CHARS`)."""
    return int(current_app.config.get("COMMENT_MAX_CHARS", DEFAULT_MAX_CHARS))


def max_depth() -> int:
    """The deepest reply allowed, a top-level comment being depth 0 (setting `COMMENT_MAX_DEPTH`)."""
    return int(current_app.config.get("COMMENT_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def check_body(body: str) -> str:
    """The body without surrounding blank space; raises `CommentError` when empty or too long."""
    text = body.strip()
    if not text:
        raise CommentError("Write your comment before you post it.")
    limit = max_chars()
    if len(text) > limit:
        raise CommentError(
            f"Comments must be {limit:,} characters or fewer; yours has {len(text):,}. Shorten it, then post it again."
        )
    return text


def render_body(body: str, comment_id: int, finding: Finding | None = None) -> str:
    """Sanitised HTML for a comment's Markdown, its heading and footnote ids kept apart from the page's.

    Each @handle that names exactly one member is marked, so readers see who was told; in
    a `finding`'s discussion, only those who may work on the finding.
    """
    html = render(body, anchor_prefix=f"c{comment_id}-").html
    if finding is not None:
        return mark_mentions(html, finding_comments.finding_mention_names(body, finding))
    return mark_mentions(html, notifications.mention_names(body))


CLOSED_STATUSES = frozenset({EntryStatus.MERGED, EntryStatus.REMOVED})
"""Entries whose discussion takes nothing new: a merged one's comments moved to its target."""


def takes_comments(entry: Entry) -> bool:
    """Whether the entry's discussion is open: not locked, merged or removed."""
    return not entry.locked and entry.status not in CLOSED_STATUSES


def _check_open(entry: Entry) -> None:
    if entry.status in CLOSED_STATUSES:
        raise CommentLockedError(
            f"This entry was {entry.status} by a moderator, so its discussion takes no new comments or changes. "
            "Your text has not been posted and is below, so you can keep a copy."
        )
    if entry.locked:
        raise CommentLockedError(
            "This discussion is locked by a moderator: it takes no new comments or replies. "
            "Your text has not been posted and is below, so you can keep a copy."
        )


def _check_parent(entry: Entry, parent: Comment, finding: Finding | None) -> None:
    if parent.entry_id != entry.id:
        raise CommentError("That comment belongs to another entry; reply to it on its own page.")
    if parent.finding_id != (finding.id if finding is not None else None):
        raise CommentError("That comment belongs to another discussion; reply to it where it is.")
    if parent.status != CommentStatus.VISIBLE:
        raise CommentError("That comment was hidden or removed by a moderator, so it takes no replies.")
    limit = max_depth()
    if parent.depth + 1 > limit:
        raise CommentError(
            f"This thread is nested as deeply as kb allows ({limit} replies deep). "
            "Reply to an earlier comment in the thread instead."
        )


def post_comment(
    entry: Entry, body: str, *, actor: User, parent: Comment | None = None, finding: Finding | None = None
) -> Comment:
    """Post `body` (Markdown) on `entry` as `actor`, as a reply to `parent` if given.

    With `finding` (one of the review `entry`'s findings) the comment joins the finding's
    discussion, which only those who may work on the finding read and write.
    Raises `PermissionDeniedError` when the actor may not comment on the entry (or see
    it), or work on the finding; `CommentLockedError` when the entry is locked, and `CommentError` for an empty
    or too long text, a reply to another discussion's or a hidden comment, or a reply nested
    deeper than `COMMENT_MAX_DEPTH`. Flushes; tells the people concerned through
    `kb.notifications.service.comment_posted` (`kb.notifications.finding_comments` for a finding).
    """
    require(actor, "comment.post", entry)
    if finding is not None and (finding.review_id != entry.id or not can(viewer_for(actor), "review.work", entry)):
        raise PermissionDeniedError("review.work")
    _check_open(entry)
    if parent is not None:
        _check_parent(entry, parent, finding)
    text = check_body(body)
    comment = Comment(
        entry=entry,
        parent_id=parent.id if parent else None,
        author=actor,
        finding_id=finding.id if finding is not None else None,
        depth=parent.depth + 1 if parent else 0,
        body=text,
        address=client_address(),
    )
    db.session.add(comment)
    db.session.flush()
    comment.thread_path = (f"{parent.thread_path}{PATH_SEPARATOR}" if parent else "") + path_step(comment.id)
    comment.html = render_body(text, comment.id, finding)
    db.session.flush()
    record_event("comment.post", actor=actor, target=comment, target_label=f"comment {comment.id} on {entry.slug}")
    if finding is not None:
        finding_comments.comment_posted(comment, finding, actor=actor)
    else:
        notifications.comment_posted(comment, actor=actor)
    return comment


def edit_comment(comment: Comment, body: str, *, actor: User) -> Comment:
    """Replace a comment's text, keeping the previous one as a `CommentVersion`.

    Raises `PermissionDeniedError` unless the actor is the comment's author and may
    still edit it, `CommentLockedError` when the entry is locked and `CommentError` for
    an empty or too long text. An unchanged text changes nothing. Flushes.
    """
    if not can_edit_comment(viewer_for(actor), comment):
        raise PermissionDeniedError("comment.edit")
    _check_open(comment.entry)
    text = check_body(body)
    if text == comment.body:
        return comment
    now = utcnow()
    number = len(comment.versions) + 1
    comment.versions.append(
        CommentVersion(
            number=number, body=comment.body, written_at=comment.edited_at or comment.created_at, replaced_at=now
        )
    )
    previous = comment.body
    comment.body = text
    comment.html = render_body(text, comment.id, comment.finding)
    comment.edited_at = now
    db.session.flush()
    record_event(
        "comment.edit", actor=actor, target=comment, new=f"version {number + 1}", target_label=f"comment {comment.id}"
    )
    if comment.finding is not None:
        finding_comments.comment_edited(comment, comment.finding, actor=actor, previous_body=previous)
    else:
        notifications.comment_edited(comment, actor=actor, previous_body=previous)
    return comment


def new_draft_token() -> str:
    """A random, unguessable name for a draft."""
    return secrets.token_urlsafe(24)


def _draft_parent(parent: Comment | None, entry: Entry) -> TypeGuard[Comment]:
    """Whether a draft may keep `parent` as the comment it replies to: a visible one on the same entry."""
    return (
        parent is not None
        and parent.entry_id == entry.id
        and parent.finding_id is None
        and parent.status == CommentStatus.VISIBLE
    )


def max_drafts_per_address() -> int:
    """How many drafts one client address keeps (`COMMENT_DRAFTS_PER_ADDRESS`)."""
    return int(current_app.config["COMMENT_DRAFTS_PER_ADDRESS"])


def purge_expired_drafts() -> int:
    """Delete every draft older than `DRAFT_MAX_AGE`; returns how many went. Flushes nothing else."""
    stale = CommentDraft.created_at < utcnow() - DRAFT_MAX_AGE
    # Session.execute is typed to return a Result; a DELETE's is a CursorResult, which counts rows.
    result = cast(
        CursorResult[Any],
        db.session.execute(delete(CommentDraft).where(stale), execution_options={"synchronize_session": False}),
    )
    return int(result.rowcount or 0)


def _make_room(group: str) -> None:
    """Drop the oldest drafts of one address so that a new one keeps it within its cap."""
    keep = max(max_drafts_per_address() - 1, 0)
    newest_first = CommentDraft.created_at.desc(), CommentDraft.id.desc()
    dropped = db.session.scalars(
        select(CommentDraft.id).where(CommentDraft.client_address == group).order_by(*newest_first).offset(keep)
    ).all()
    if dropped:
        db.session.execute(
            delete(CommentDraft).where(CommentDraft.id.in_(dropped)), execution_options={"synchronize_session": False}
        )


def save_draft(
    entry: Entry,
    body: str,
    *,
    parent: Comment | None = None,
    token: str | None = None,
    address: str | None = None,
) -> CommentDraft:
    """Keep what a signed-out visitor tried to post; its token brings it back after sign-in. Flushes.

    The text is cut to the longest comment allowed, so a draft can never be larger than a comment.
    Only a visible comment on the same entry is kept as the parent; otherwise the draft
    comes back as a new comment, so it never names the author of a hidden or removed one.
    Expired drafts are purged on the way, and the client `address` (IPv6 by /64) keeps at
    most `COMMENT_DRAFTS_PER_ADDRESS` drafts: its oldest are dropped, never the new one.
    """
    purge_expired_drafts()
    group = client_group(address) if address else None
    if group is not None:
        _make_room(group)
    draft = CommentDraft(
        token=token or new_draft_token(),
        entry_id=entry.id,
        parent_id=parent.id if _draft_parent(parent, entry) else None,
        body=body[: max_chars()],
        client_address=group,
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def find_draft(token: str | None, entry: Entry) -> CommentDraft | None:
    """The draft with this token for this entry, if it is less than a day old."""
    if not token:
        return None
    return db.session.scalar(
        select(CommentDraft).where(
            CommentDraft.token == token,
            CommentDraft.entry_id == entry.id,
            CommentDraft.created_at >= utcnow() - DRAFT_MAX_AGE,
        )
    )


def discard_draft(token: str | None) -> None:
    """Delete the draft with this token (once its text is posted), and every draft past its age."""
    purge_expired_drafts()
    if token:
        db.session.execute(
            delete(CommentDraft).where(CommentDraft.token == token), execution_options={"synchronize_session": "fetch"}
        )
