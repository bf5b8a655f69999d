"""What the comment pages show: a thread flattened into rows the template only prints.

A thread of 2,000 comments is one query (`kb.comments.queries`), one tree
(`kb.comments.tree`) and one flat list of `Row`s; the template loops once over the rows
and never calls back into Python per comment beyond reading attributes, so it renders
quickly whatever the thread's shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request, url_for
from jinja2 import Template, TemplateNotFound

from kb.comments import queries
from kb.comments.forms import CommentForm
from kb.comments.models import Comment, CommentDraft
from kb.comments.queries import ThreadComment
from kb.comments.service import PATH_SEPARATOR, find_draft, takes_comments
from kb.comments.tree import ORDERS, SHOWN_DEPTH, Node, build_tree, walk
from kb.dates import london_time
from kb.drafts.keeping import restored_fields
from kb.entries.models import Entry
from kb.pages import whole_number
from kb.panels.models import Finding
from kb.permissions import Viewer, can, can_edit_comment, can_read_comment
from kb.states import CommentStatus

FORMER_MEMBER = "A former member"
PLACEHOLDER_HEADINGS = {"hidden": "Hidden comment", "removed": "Removed comment"}
PLACEHOLDERS = {
    "hidden": "This comment was hidden by a moderator.",
    "removed": "This comment was removed by a moderator.",
}


@dataclass(slots=True)
class Row:
    """One comment as a thread page prints it, and where the nested lists open and close.

    Everything the template shows is worked out here once, so printing a row is only
    reading plain attributes.
    """

    comment: ThreadComment
    depth: int
    level: int
    """The heading level of the comment's heading: h3 at the top, one deeper per reply, h6 at most."""
    classes: str
    readable: bool
    heading: str
    """The author and their organisation, or "Hidden comment" / "Removed comment" for a placeholder."""
    organisation: str
    written: str
    written_iso: str
    edited: str
    status_note: str
    placeholder: str
    can_edit: bool
    can_reply: bool
    can_see_versions: bool
    more: int
    """Replies below this comment not shown on this page (behind "Continue this thread")."""
    opens: bool = False
    closes: int = 0


@dataclass
class Discussion:
    """The comments section of an entry page, or of a "continue this thread" page."""

    entry: Entry
    rows: list[Row]
    count: int
    order: str
    can_post: bool
    form: CommentForm | None = None
    replying_to: ThreadComment | None = None
    orders: dict[str, str] = field(default_factory=lambda: dict(ORDERS))
    tools: Template | None = None
    """Each comment's flag and moderation tools, looked up once per page rather than once per comment."""
    may_flag: bool = False
    may_moderate: bool = False
    """Whether the viewer may flag or moderate this entry's comments, asked once for the whole page."""


TOOLS_TEMPLATE = "moderation/_comment_tools.html"


def comment_tools(viewer: Viewer, entry: Entry) -> dict[str, Any]:
    """The per-comment tools for this viewer: none for those who may neither flag nor moderate."""
    may_flag = can(viewer, "flag.raise", entry)
    may_moderate = can(viewer, "comment.moderate", entry)
    template = _tools_template() if may_flag or may_moderate else None
    return {"tools": template, "may_flag": may_flag, "may_moderate": may_moderate}


def _tools_template() -> Template | None:
    try:
        return current_app.jinja_env.get_template(TOOLS_TEMPLATE)
    except TemplateNotFound:
        return None


def _status_note(comment: ThreadComment, viewer: Viewer) -> str:
    """Why a comment the viewer can read is not visible to everyone, for its author and moderators."""
    if comment.status == CommentStatus.VISIBLE:
        return ""
    reason = f": {comment.status_reason}" if comment.status_reason else "."
    if comment.status == CommentStatus.HIDDEN:
        who = "Only you and the moderators" if comment.author_id == viewer.user_id else "Only its author and moderators"
        return f"Hidden by a moderator{reason} {who} can read it."
    return f"Removed by a moderator{reason} Only moderators can read it."


def _replies_below(node: Node[ThreadComment]) -> int:
    """How many replies a node has at any depth, counted without recursion (threads can be very deep)."""
    return sum(1 for _ in walk([node])) - 1


def _row(node: Node[ThreadComment], viewer: Viewer, *, replies_open: bool) -> Row:
    """A row for one comment; the page has already checked that the viewer may see its entry."""
    comment = node.comment
    status = comment.status
    readable = status == CommentStatus.VISIBLE or can_read_comment(viewer, comment)
    author = comment.author
    own = author is not None and author.id == viewer.user_id
    organisation = ""
    if readable:
        heading = author.display_name if author is not None else FORMER_MEMBER
        organisation = author.organisation.name if author is not None and author.organisation is not None else ""
    else:
        heading = PLACEHOLDER_HEADINGS[status]
    classes = "kb-comment" if status == CommentStatus.VISIBLE else f"kb-comment kb-comment--{status}"
    return Row(
        comment=comment,
        depth=node.depth,
        level=min(3 + node.depth, 6),
        classes=classes if readable else f"{classes} kb-comment--placeholder",
        readable=readable,
        heading=heading,
        organisation=organisation,
        written=london_time(comment.created_at),
        written_iso=comment.created_at.isoformat(),
        edited=london_time(comment.edited_at) if comment.edited_at else "",
        status_note=_status_note(comment, viewer) if readable else "",
        placeholder="" if readable else PLACEHOLDERS[status],
        can_edit=readable and own and takes_comments(comment.entry) and can_edit_comment(viewer, comment),
        can_reply=replies_open and status == CommentStatus.VISIBLE,
        can_see_versions=viewer.is_staff and comment.edited_at is not None,
        more=_replies_below(node) if node.depth >= SHOWN_DEPTH - 1 and node.replies else 0,
    )


def thread_rows(nodes: Sequence[Node[ThreadComment]], viewer: Viewer, *, replies_open: bool) -> list[Row]:
    """The nodes in reading order down to `SHOWN_DEPTH` levels, marking where reply lists open and close."""
    rows: list[Row] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        row = _row(node, viewer, replies_open=replies_open)
        if node.depth < SHOWN_DEPTH - 1 and node.replies:
            row.opens = True
            stack.extend(reversed(node.replies))
        rows.append(row)
    for index, row in enumerate(rows):
        if not row.opens:
            following = rows[index + 1].depth if index + 1 < len(rows) else 0
            row.closes = row.depth - following
    return rows


def chosen_order() -> str:
    """The order asked for in the address (`?order=newest`), oldest first otherwise."""
    order = request.args.get("order", "oldest")
    return order if order in ORDERS else "oldest"


def _form_for(draft: CommentDraft | None, parent: ThreadComment | None) -> CommentForm:
    if draft is None:
        return CommentForm(formdata=None)
    return CommentForm(
        formdata=None, data={"body": draft.body, "parent_id": parent.id if parent else "", "draft": draft.token}
    )


def _draft_parent(
    draft: CommentDraft | None, comments: Sequence[ThreadComment], viewer: Viewer
) -> ThreadComment | None:
    """The comment a draft replies to, if it is still visible and readable; else None (a new comment)."""
    if draft is None or not draft.parent_id:
        return None
    parent = next((comment for comment in comments if comment.id == draft.parent_id), None)
    return parent if parent is not None and _draft_parent_ok(parent, viewer) else None


def _draft_parent_ok(parent: ThreadComment, viewer: Viewer) -> bool:
    """Whether a draft may come back as a reply to `parent`: it is still shown and the viewer may read it."""
    return parent.status == CommentStatus.VISIBLE and can_read_comment(viewer, parent)


def _autosaved_form(
    comments: Sequence[ThreadComment], viewer: Viewer
) -> tuple[CommentForm, ThreadComment | None] | None:
    """The comment form filled from the viewer's own form draft named by `?draft=` (saved as they typed), if any.

    It comes back as a reply only to a comment still shown to them; otherwise as a new comment.
    """
    restored = restored_fields()
    if restored is None:
        return None
    replied = whole_number(restored.get("parent_id"))
    parent = next((row for row in comments if row.id == replied), None) if replied else None
    parent = parent if parent is not None and _draft_parent_ok(parent, viewer) else None
    data = {"body": restored.get("body", ""), "parent_id": parent.id if parent else ""}
    return CommentForm(formdata=None, data=data), parent


def entry_discussion(entry: Entry, viewer: Viewer) -> Discussion:
    """The comments section of `entry`'s page, with a form filled from `?draft=` after a sign-in."""
    order = chosen_order()
    comments = queries.thread_comments(entry)
    can_post = can(viewer, "comment.post", entry) and takes_comments(entry)
    rows = thread_rows(build_tree(comments, order), viewer, replies_open=can_post)
    draft = find_draft(request.args.get("draft"), entry) if can_post else None
    parent = _draft_parent(draft, comments, viewer)
    form = _form_for(draft, parent) if can_post else None
    autosaved = _autosaved_form(comments, viewer) if can_post and draft is None else None
    if autosaved is not None:
        form, parent = autosaved
    return Discussion(
        entry=entry,
        rows=rows,
        count=sum(1 for comment in comments if can_read_comment(viewer, comment)),
        order=order,
        can_post=can_post,
        form=form,
        replying_to=parent,
        **comment_tools(viewer, entry),
    )


def branch_discussion(root: Comment, viewer: Viewer) -> Discussion:
    """The branch of a thread starting at `root`, for its "continue this thread" page."""
    entry = root.entry
    comments = queries.branch_comments(root)
    can_post = can(viewer, "comment.post", entry) and takes_comments(entry)
    rows = thread_rows(build_tree(comments, root_id=root.id), viewer, replies_open=can_post)
    return Discussion(
        entry=entry,
        rows=rows,
        count=sum(1 for comment in comments if can_read_comment(viewer, comment)),
        order="oldest",
        can_post=can_post,
        **comment_tools(viewer, entry),
    )


def finding_page(finding: Finding) -> str:
    """The address of a finding's page, where its discussion is shown."""
    return url_for("panels.finding", slug=finding.review.slug, number=finding.number)


def permalink_for(comment: Comment) -> str:
    """Where a comment is shown: its finding's page, its entry's page, or the continue page of the branch holding it."""
    if comment.finding is not None:
        return f"{finding_page(comment.finding)}#{comment.anchor}"
    if comment.depth < SHOWN_DEPTH:
        return f"{comment.entry.path}#{comment.anchor}"
    step = SHOWN_DEPTH - 1
    root_depth = ((comment.depth - 1) // step) * step
    root_id = int(comment.thread_path.split(PATH_SEPARATOR)[root_depth])
    return url_for("comments.thread", comment_id=root_id, _anchor=comment.anchor)
