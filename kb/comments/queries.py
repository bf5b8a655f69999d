"""Reading comments: a whole thread or one branch in one query, and counts for lists.

Every function takes the viewer or an entry the route has already checked, so a
comment on an entry the viewer may not see is never loaded for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

from markupsafe import Markup
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import joinedload

from kb.comments.models import Comment, comment_anchor, comment_permalink
from kb.entries.models import Entry
from kb.extensions import db
from kb.panels.models import Finding
from kb.permissions import Viewer, can_view_entry, on_panel_of, readable_comments, visible_entries
from kb.users.models import Organisation, User

PATH_END = ":"
"""Sorts just after every digit, so `[path, path + PATH_END)` holds a comment and all its replies."""


@dataclass(slots=True)
class ThreadAuthor:
    """Who wrote a comment in a thread, as the thread shows them."""

    id: int
    display_name: str
    organisation: ThreadOrganisation | None


@dataclass(slots=True)
class ThreadOrganisation:
    """The organisation of a comment's author."""

    name: str


@dataclass(slots=True)
class ThreadComment:
    """A comment as a thread page reads it: the columns of `Comment` it shows, its author and its entry.

    Threads are read as plain rows rather than ORM objects, which keeps a page of
    2,000 comments fast; the attribute names are those of `Comment`, so templates and
    permission checks (`can_read_comment`, `can_edit_comment`) take either.
    """

    id: int
    entry_id: int
    parent_id: int | None
    author_id: int | None
    depth: int
    thread_path: str
    html: str
    status: str
    status_reason: str | None
    created_at: dt.datetime
    edited_at: dt.datetime | None
    author: ThreadAuthor | None
    entry: Entry
    finding_id: int | None = None
    """Set on a finding's discussion: only those who may work on the finding read it."""

    @property
    def shown_html(self) -> Markup:
        """The stored rendering (sanitised by kb.markdown when the comment was saved), ready to print."""
        return Markup(self.html)  # noqa: S704 - rendered and sanitised when saved

    @property
    def anchor(self) -> str:
        """The id of the comment's element on its page."""
        return comment_anchor(self.id)

    @property
    def permalink(self) -> str:
        """The comment's lasting address (see `comment_permalink`)."""
        return comment_permalink(self.id)


THREAD_COLUMNS = (
    Comment.id,
    Comment.parent_id,
    Comment.author_id,
    Comment.depth,
    Comment.thread_path,
    Comment.html,
    Comment.status,
    Comment.status_reason,
    Comment.created_at,
    Comment.edited_at,
    Comment.finding_id,
    User.display_name,
    Organisation.name,
)


@overload
def _utc(moment: dt.datetime) -> dt.datetime: ...
@overload
def _utc(moment: dt.datetime | None) -> dt.datetime | None: ...
def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Times are stored in UTC; SQLite gives them back without their zone."""
    return moment.replace(tzinfo=dt.UTC) if moment is not None and moment.tzinfo is None else moment


def _read_thread(entry: Entry, condition: ColumnElement[bool]) -> list[ThreadComment]:
    """Comments of `entry` matching `condition`, in thread order, with their authors: one query."""
    query = (
        select(*THREAD_COLUMNS)
        .outerjoin(User, User.id == Comment.author_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(Comment.entry_id == entry.id, condition)
        .order_by(Comment.thread_path)
    )
    authors: dict[int, ThreadAuthor] = {}
    comments = []
    entry_id = entry.id
    # Plain rows through the session's connection: no ORM bookkeeping for a page of 2,000 comments.
    for row in db.session.connection().execute(query).all():
        (id_, parent_id, author_id, depth, path, html, status, reason, created, edited, finding_id, *who) = row
        name, organisation = who
        author = None
        if author_id is not None:
            author = authors.get(author_id)
            if author is None:
                place = ThreadOrganisation(organisation) if organisation is not None else None
                author = authors[author_id] = ThreadAuthor(author_id, name, place)
        fields = (id_, entry_id, parent_id, author_id, depth, path, html, status, reason, _utc(created), _utc(edited))
        comments.append(ThreadComment(*fields, author=author, entry=entry, finding_id=finding_id))
    return comments


def thread_comments(entry: Entry) -> list[ThreadComment]:
    """Every comment on `entry`, whatever its status, with authors and organisations, in thread order.

    A review's findings' discussions are not the review's: they are read with `finding_thread_comments`.
    """
    return _read_thread(entry, Comment.finding_id.is_(None))


def finding_thread_comments(finding: Finding) -> list[ThreadComment]:
    """Every comment of one finding's discussion, whatever its status, in thread order (the caller checks who reads)."""
    return _read_thread(finding.review, Comment.finding_id == finding.id)


def in_branch(root: Comment | ThreadComment) -> ColumnElement[bool]:
    """SQL condition on `Comment`: `root` and every reply below it at any depth (an indexed range of paths)."""
    return and_(Comment.thread_path >= root.thread_path, Comment.thread_path < root.thread_path + PATH_END)


def branch_comments(root: Comment | ThreadComment) -> list[ThreadComment]:
    """`root` and every reply below it at any depth, in thread order, in one query."""
    return _read_thread(root.entry, in_branch(root))


def _with_authors() -> tuple:
    return (joinedload(Comment.author).joinedload(User.organisation),)


def visible_comment(viewer: Viewer, comment_id: int) -> Comment | None:
    """The comment if the viewer may see its entry (its text may still be hidden from them), else None.

    A comment of a finding's discussion is None (as if it did not exist) to all but the
    review's panel and staff; to them a hidden or removed one is found like any other, and
    its page shows the placeholder.
    """
    comment = db.session.scalar(
        select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.entry), *_with_authors())
    )
    if comment is None or not can_view_entry(viewer, comment.entry):
        return None
    if comment.finding_id is not None and not on_panel_of(viewer, comment.entry):
        return None
    return comment


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
        .where(
            Comment.entry_id.in_(sorted(set(entry_ids))),
            Comment.finding_id.is_(None),
            visible_entries(viewer),
            readable_comments(viewer),
        )
        .group_by(Comment.entry_id)
    )
    return {entry_id: count for entry_id, count in db.session.execute(query)}
