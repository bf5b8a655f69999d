"""Downloads of a discussion for signed-in readers: an entry's threads as Markdown or CSV, one branch as Markdown.

Each answers 404 exactly when the entry is hidden from the reader (as its page does), and
loads the comments in one query. Comments the reader may not read
(`permissions.can_read_comment`) keep their place as placeholders.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import login_required
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from kb.comments import queries as comment_queries
from kb.comments.export import ExportedComment, comments_csv, export_filename, thread_markdown
from kb.comments.models import Comment
from kb.comments.tree import Node, build_tree
from kb.dates import utcnow
from kb.entries import queries
from kb.entries.models import Entry
from kb.entries.vocabulary import KIND_PLURALS
from kb.extensions import db
from kb.mail import site_link
from kb.permissions import Viewer, can_read_comment, current_viewer
from kb.users.models import User

blueprint = Blueprint("exports", __name__)
PLURALS = "any(lessons, reviews, papers)"
MARKDOWN_TYPE = "text/markdown; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"


def _visible_entry(plural: str, slug: str) -> Entry:
    """The entry if the reader may see it and the URL names its kind; else 404."""
    entry = queries.visible_entry(current_viewer(), slug)
    if entry is None or KIND_PLURALS[entry.kind] != plural:
        abort(404)
    return entry


def _comments_query(entry: Entry, finding_id: int | None = None) -> Select[Comment]:
    """An entry's comments with their authors and organisations: one query.

    Its findings' discussions are left out, except the one of `finding_id` when given
    (a thread of it exported by someone who may read it).
    """
    discussion = Comment.finding_id.is_(None) if finding_id is None else Comment.finding_id == finding_id
    return (
        select(Comment)
        .where(Comment.entry_id == entry.id, discussion)
        .options(joinedload(Comment.author).joinedload(User.organisation))
        .order_by(Comment.thread_path)
    )


def exported(comment: Comment, entry: Entry, viewer: Viewer) -> ExportedComment:
    """What an export shows of `comment` to `viewer`, its permalink absolute."""
    author = comment.author
    return ExportedComment(
        id=comment.id,
        parent_id=comment.parent_id,
        depth=comment.depth,
        author=author.display_name if author is not None else "A former member",
        organisation=author.organisation.name if author is not None and author.organisation is not None else "",
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        status=comment.status,
        permalink=site_link(comment.permalink),
        body=comment.body,
        readable=can_read_comment(viewer, comment),
    )


def _threads(entry: Entry, query: Select[Comment], root_id: int | None = None) -> list[Node[ExportedComment]]:
    viewer = current_viewer()
    comments = [exported(comment, entry, viewer) for comment in db.session.scalars(query).unique()]
    return build_tree(comments, "oldest", root_id=root_id)


def _download(body: str, content_type: str, filename: str) -> Response:
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.get(f"/<{PLURALS}:plural>/<slug>/comments.md")
@login_required
def entry_markdown(plural: str, slug: str) -> Response:
    """Every thread of an entry as a Markdown document."""
    entry = _visible_entry(plural, slug)
    text = thread_markdown(
        entry.title, site_link(entry.path), _threads(entry, _comments_query(entry)), exported_at=utcnow()
    )
    return _download(text, MARKDOWN_TYPE, export_filename(entry.slug, "comments", "md"))


@blueprint.get(f"/<{PLURALS}:plural>/<slug>/comments.csv")
@login_required
def entry_csv(plural: str, slug: str) -> Response:
    """Every comment of an entry as a CSV file, one row per comment in reading order."""
    entry = _visible_entry(plural, slug)
    text = comments_csv(_threads(entry, _comments_query(entry)))
    return _download(text, CSV_TYPE, export_filename(entry.slug, "comments", "csv"))


@blueprint.get("/comments/<int:comment_id>/thread.md")
@login_required
def branch_markdown(comment_id: int) -> Response:
    """One comment and every reply below it, as a Markdown document."""
    root = comment_queries.visible_comment(current_viewer(), comment_id)
    if root is None:
        abort(404)
    entry = root.entry
    branch = _comments_query(entry, root.finding_id).where(comment_queries.in_branch(root))
    text = thread_markdown(
        entry.title,
        site_link(entry.path),
        _threads(entry, branch, root_id=root.id),
        exported_at=utcnow(),
        branch=True,
    )
    return _download(text, MARKDOWN_TYPE, export_filename(entry.slug, f"comment-{root.id}-thread", "md"))
