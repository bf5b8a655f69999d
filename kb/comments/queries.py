"""Reading comments: a whole thread or one branch in one query, and counts for lists.

Every function takes the viewer or an entry the route has already checked, so a
comment on an entry the viewer may not see is never loaded for them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from kb.comments.models import Comment
from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import Viewer, can_view_entry, visible_entries
from kb.users.models import User

PATH_END = ":"
"""Sorts just after every digit, so `[path, path + PATH_END)` holds a comment and all its replies."""


def _with_authors() -> tuple:
    return (joinedload(Comment.author).joinedload(User.organisation),)


def thread_comments(entry: Entry) -> list[Comment]:
    """Every comment on `entry`, whatever its status, with authors and organisations, in thread order."""
    query = select(Comment).where(Comment.entry_id == entry.id).options(*_with_authors()).order_by(Comment.thread_path)
    return list(db.session.scalars(query).unique())


def branch_comments(root: Comment) -> list[Comment]:
    """`root` and every reply below it at any depth, in thread order, in one query."""
    query = (
        select(Comment)
        .where(
            Comment.entry_id == root.entry_id,
            Comment.thread_path >= root.thread_path,
            Comment.thread_path < root.thread_path + PATH_END,
        )
        .options(*_with_authors())
        .order_by(Comment.thread_path)
    )
    return list(db.session.scalars(query).unique())


def visible_comment(viewer: Viewer, comment_id: int) -> Comment | None:
    """The comment if the viewer may see its entry (its text may still be hidden from them), else None."""
    comment = db.session.scalar(
        select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.entry), *_with_authors())
    )
    if comment is None or not can_view_entry(viewer, comment.entry):
        return None
    return comment


def comment_with_versions(comment_id: int) -> Comment | None:
    """A comment with its earlier versions loaded (the route checks who may see them)."""
    return db.session.scalar(select(Comment).where(Comment.id == comment_id).options(selectinload(Comment.versions)))


def readable_comments(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on `Comment`: the comments whose text `viewer` may read (as `can_read_comment`)."""
    if viewer.is_staff:
        return true()
    if not viewer.is_authenticated:
        return Comment.status == "visible"
    own_hidden = and_(Comment.status == "hidden", Comment.author_id == viewer.user_id)
    return or_(Comment.status == "visible", own_hidden)


def comment_counts_for(viewer: Viewer, entries: Sequence[Entry]) -> dict[int, int]:
    """`comment_counts` for a page of loaded entries."""
    return comment_counts(viewer, [entry.id for entry in entries])


def comment_counts(viewer: Viewer, entry_ids: Sequence[int]) -> dict[int, int]:
    """How many comments `viewer` may read on each of `entry_ids` they may see, in one query.

    Entries with none, and entries the viewer may not see, are left out.
    """
    if not entry_ids:
        return {}
    query = (
        select(Comment.entry_id, func.count(Comment.id))
        .join(Entry, Entry.id == Comment.entry_id)
        .where(Comment.entry_id.in_(sorted(set(entry_ids))), visible_entries(viewer), readable_comments(viewer))
        .group_by(Comment.entry_id)
    )
    return {entry_id: count for entry_id, count in db.session.execute(query)}
