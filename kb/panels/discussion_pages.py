"""What a finding's page shows of its discussion: threads as rows, which are resolved, and the form.

Only for those who may work on the finding; everyone else gets nothing (the route never
builds it for them). Each thread is printed with the comment system's own rows
(`kb.comments.pages`), so replies, edits and placeholders read as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.comments import queries
from kb.comments.forms import CommentForm
from kb.comments.models import Comment
from kb.comments.pages import Row, comment_tools, finding_page, thread_rows
from kb.comments.queries import ThreadComment
from kb.comments.service import takes_comments
from kb.comments.tree import SHOWN_DEPTH, build_tree
from kb.dates import london_time
from kb.drafts.keeping import restored_fields
from kb.extensions import db
from kb.pages import whole_number
from kb.panels.discussion import can_resolve
from kb.panels.models import Finding
from kb.permissions import Viewer, can, can_read_comment
from kb.previews import PreviewPart
from kb.states import CommentStatus

FORM_ID = "finding-comment-form"
"""The id of the discussion's form on the finding's page (where a kept draft and a reply link lead)."""


@dataclass
class FindingThread:
    """One thread of the discussion: its rows (the first comment, then replies) and whether it is resolved."""

    opener_id: int
    rows: list[Row]
    resolved: bool
    resolved_note: str
    """ "Resolved by X on date", empty while open."""
    can_resolve: bool
    may_flag: bool = False
    may_moderate: bool = False
    """The comment tools' questions, asked once for the page (see `kb.comments.pages.comment_tools`)."""


@dataclass
class FindingDiscussion:
    """The discussion section of a finding's page for one reader who may work on the finding."""

    finding: Finding
    threads: list[FindingThread]
    open_count: int
    can_post: bool
    form: CommentForm
    action: str
    page: str
    replying_to: ThreadComment | None = None
    message: str | None = None
    preview: list[PreviewPart] | None = None
    tools: object = None
    may_flag: bool = False
    may_moderate: bool = False


def _openers(finding: Finding) -> dict[int, Comment]:
    query = (
        select(Comment)
        .where(Comment.finding_id == finding.id, Comment.parent_id.is_(None))
        .options(selectinload(Comment.resolved_by))
    )
    return {comment.id: comment for comment in db.session.scalars(query)}


def _resolved_note(opener: Comment) -> str:
    if opener.resolved_at is None:
        return ""
    who = opener.resolved_by.display_name if opener.resolved_by is not None else "a former member"
    return f"Resolved by {who} on {london_time(opener.resolved_at)}"


def _replyable(comment: ThreadComment, viewer: Viewer) -> bool:
    """Whether a reply to `comment` can be written here: shown, readable, and not deeper than the page shows."""
    return (
        comment.status == CommentStatus.VISIBLE
        and can_read_comment(viewer, comment)
        and comment.depth < SHOWN_DEPTH - 1
    )


def _form(comments: list[ThreadComment], viewer: Viewer) -> tuple[CommentForm, ThreadComment | None]:
    """The form as the page opens: a kept draft, a reply asked for by `?reply=`, or empty."""
    restored = restored_fields()
    wanted = whole_number(restored.get("parent_id") if restored is not None else request.args.get("reply"))
    parent = next((comment for comment in comments if comment.id == wanted), None) if wanted else None
    parent = parent if parent is not None and _replyable(parent, viewer) else None
    body = restored.get("body", "") if restored is not None else ""
    return CommentForm(formdata=None, data={"body": body, "parent_id": parent.id if parent else ""}), parent


def finding_discussion(
    viewer: Viewer,
    finding: Finding,
    *,
    form: CommentForm | None = None,
    message: str | None = None,
    preview: list[PreviewPart] | None = None,
) -> FindingDiscussion:
    """The discussion of `finding` as `viewer` (who may work on it) sees it, with `form` as sent when given."""
    review = finding.review
    comments = queries.finding_thread_comments(finding)
    can_post = can(viewer, "comment.post", review) and takes_comments(review)
    openers = _openers(finding)
    tools = comment_tools(viewer, review)
    threads = []
    for node in build_tree(comments, "oldest"):
        rows = thread_rows([node], viewer, replies_open=can_post)
        for row in rows:
            row.can_reply = row.can_reply and row.comment.depth < SHOWN_DEPTH - 1
            row.more = 0
        opener = openers[node.comment.id]
        threads.append(
            FindingThread(
                opener_id=opener.id,
                rows=rows,
                resolved=opener.resolved_at is not None,
                resolved_note=_resolved_note(opener),
                can_resolve=can_resolve(viewer, opener, finding),
                may_flag=tools["may_flag"],
                may_moderate=tools["may_moderate"],
            )
        )
    replying_to = None
    if form is None:
        form, replying_to = _form(comments, viewer)
    else:
        wanted = form.parent_number()
        replying_to = next((comment for comment in comments if comment.id == wanted), None) if wanted else None
    page = finding_page(finding)
    return FindingDiscussion(
        finding=finding,
        threads=threads,
        open_count=sum(1 for thread in threads if not thread.resolved),
        can_post=can_post,
        form=form,
        action=f"{page}/comments",
        page=page,
        replying_to=replying_to,
        message=message,
        preview=preview,
        **tools,
    )
