"""The comments search reads: readable comment texts for indexing, and the comments behind a page of hits.

A comment is indexed as a low-weighted part of its entry's document, so it is exactly
as visible in search as its entry. Only comments with status `visible` are read here: a
hidden or removed comment's words are never indexed, whoever searches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from kb.comments.models import Comment, comment_anchor, comment_permalink
from kb.comments.tree import SHOWN_DEPTH
from kb.permissions import ANONYMOUS, readable_comments
from kb.users.models import User


def indexed_comments() -> ColumnElement[bool]:
    """SQL condition on `Comment`: those whose text goes into their entry's document.

    Only comments every reader of the entry may read (`permissions.readable_comments`
    for anyone), so the index holds nothing its entry's own visibility does not cover.
    """
    return readable_comments(ANONYMOUS)


MAX_CUES = 24
"""Above this many searched words, comments are not narrowed down in SQL first (the condition would cost more)."""


@dataclass(frozen=True)
class CommentText:
    """What a search result needs of one readable comment: where it is, who wrote it, its Markdown."""

    id: int
    entry_id: int
    author: str
    body: str
    depth: int = 0

    @property
    def anchor(self) -> str:
        """The id of the comment's element on its entry's page (as `Comment.anchor`)."""
        return comment_anchor(self.id)

    def link(self, entry_path: str) -> str:
        """Where the comment is read: its place on the entry's page, or its permalink when deeper.

        The entry page shows `SHOWN_DEPTH` levels; the permalink of a deeper comment opens
        the "continue this thread" page that holds it.
        """
        if self.depth < SHOWN_DEPTH:
            return f"{entry_path}#{self.anchor}"
        return comment_permalink(self.id)


def indexed_comment_bodies(session: Session, entry_ids: Collection[int]) -> dict[int, list[str]]:
    """The Markdown of each entry's readable comments, oldest first, in one query (entries without any left out)."""
    if not entry_ids:
        return {}
    query = (
        select(Comment.entry_id, Comment.body)
        .where(Comment.entry_id.in_(sorted(entry_ids)), indexed_comments())
        .order_by(Comment.entry_id, Comment.id)
    )
    bodies: dict[int, list[str]] = defaultdict(list)
    for entry_id, body in session.execute(query):
        bodies[entry_id].append(body)
    return dict(bodies)


def _like(cue: str) -> str:
    escaped = cue.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def comments_of_hits(
    session: Session, entry_ids: Collection[int], cues: Collection[str] = ()
) -> dict[int, list[CommentText]]:
    """The readable comments of the entries on a results page, with their authors' names, in one query.

    With `cues` (the first letters of the searched words, as `snippets.may_match` uses
    them) in plain ASCII, only comments holding one of them are read: a comment without any cannot
    give a snippet, and an entry may have hundreds of comments.
    """
    if not entry_ids:
        return {}
    query = (
        select(Comment.id, Comment.entry_id, Comment.body, User.display_name, Comment.depth)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.entry_id.in_(sorted(entry_ids)), indexed_comments())
        .order_by(Comment.entry_id, Comment.id)
    )
    if cues and len(cues) <= MAX_CUES and all(cue.isascii() for cue in cues):  # SQLite lowers ASCII only
        query = query.where(or_(*(Comment.body.ilike(_like(cue), escape="\\") for cue in sorted(set(cues)))))
    found: dict[int, list[CommentText]] = defaultdict(list)
    for comment_id, entry_id, body, name, depth in session.execute(query):
        found[entry_id].append(CommentText(comment_id, entry_id, name or "a former member", body, depth))
    return dict(found)
