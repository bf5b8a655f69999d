"""Resolving the threads of a finding's discussion: who may, and the verbs that do it.

A thread is a top-level comment of the finding's discussion and its replies; resolving
marks its first comment (`resolved_at`, `resolved_by`). The person who opened the
thread or the finding's holder may resolve it and open it again; a resolved thread is
folded away on the page but kept and readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kb.audit.service import record_event
from kb.dates import utcnow
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.permissions import PermissionDeniedError, Viewer, can, can_read_comment, viewer_for

if TYPE_CHECKING:
    from kb.comments.models import Comment
    from kb.panels.models import Finding
    from kb.users.models import User


class ThreadError(InvalidInputError):
    """The comment named is not the start of a thread of this finding's discussion."""


def can_resolve(viewer: Viewer, opener: Comment, finding: Finding) -> bool:
    """Whether `viewer` may resolve or reopen the thread `opener` starts: its author or the finding's holder.

    Only while they may work on the finding (and so read its discussion).
    """
    if not viewer.is_authenticated or not can(viewer, "review.work", finding.review):
        return False
    return opener.author_id == viewer.user_id or finding.holder_id == viewer.user_id


def _check(opener: Comment, finding: Finding, actor: User) -> None:
    if opener.finding_id != finding.id or opener.parent_id is not None:
        raise ThreadError("Only a thread of this finding's discussion, by its first comment, can be resolved.")
    viewer = viewer_for(actor)
    if not can_read_comment(viewer, opener) or not can_resolve(viewer, opener, finding):
        raise PermissionDeniedError("thread.resolve")


def resolve_thread(opener: Comment, finding: Finding, *, actor: User) -> Comment:
    """Mark the thread `opener` starts as resolved by `actor`; a resolved thread stays as it is. Flushes.

    Raises `ThreadError` when `opener` is not a top-level comment of `finding`'s discussion,
    `PermissionDeniedError` unless `actor` opened the thread or holds the finding.
    """
    _check(opener, finding, actor)
    if opener.resolved_at is None:
        opener.resolved_at = utcnow()
        opener.resolved_by_id = actor.id
        db.session.flush()
        record_event("thread.resolve", actor=actor, target=opener, target_label=f"thread {opener.id}")
    return opener


def reopen_thread(opener: Comment, finding: Finding, *, actor: User) -> Comment:
    """Open the resolved thread `opener` starts again; an open thread stays as it is. Flushes.

    Raises as `resolve_thread`.
    """
    _check(opener, finding, actor)
    if opener.resolved_at is not None:
        opener.resolved_at = None
        opener.resolved_by_id = None
        db.session.flush()
        record_event("thread.reopen", actor=actor, target=opener, target_label=f"thread {opener.id}")
    return opener
