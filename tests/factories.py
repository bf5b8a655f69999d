"""Shared test helpers: entries and lessons found by slug, and comments made straight through the model.

Accounts are made by `tests.accounts`, findings and citations by `tests.citation_factory`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kb.comments.models import Comment, path_step
from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.markdown import render
from kb.users.models import User


def entry(slug: str) -> Entry:
    """The entry with this slug, as the session has it."""
    found = db.session.scalar(select(Entry).where(Entry.slug == slug))
    assert found is not None, slug
    return found


def lesson(slug: str) -> Lesson:
    """The lesson with this slug, as the session has it."""
    found = db.session.scalar(select(Lesson).where(Lesson.slug == slug))
    assert found is not None, slug
    return found


def reloaded_entry(slug: str) -> Entry:
    """The entry with this slug as the database has it now (after requests changed it)."""
    db.session.expire_all()
    return entry(slug)


def reloaded_lesson(slug: str) -> Lesson:
    """The lesson with this slug as the database has it now (after requests changed it)."""
    db.session.expire_all()
    return lesson(slug)


def add_comment(
    entry: Entry,
    author: User | None,
    body: str,
    *,
    parent: Comment | None = None,
    status: str = "visible",
    created_at: dt.datetime | None = None,
    commit: bool = True,
) -> Comment:
    """Add a comment (a reply when `parent` is given) with its thread path; committed unless `commit` is False."""
    comment = Comment(
        entry_id=entry.id,
        author_id=author.id if author is not None else None,
        parent_id=parent.id if parent is not None else None,
        depth=parent.depth + 1 if parent is not None else 0,
        body=body,
        html=render(body).html,
        status=status,
    )
    if created_at is not None:
        comment.created_at = created_at
    db.session.add(comment)
    db.session.flush()
    comment.thread_path = (f"{parent.thread_path}/" if parent is not None else "") + path_step(comment.id)
    if commit:
        db.session.commit()
    return comment
