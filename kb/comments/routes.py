"""Pages and form handlers for comments: post, reply, edit, earlier versions, permalinks, branches.

Posting keeps what was typed whatever goes wrong: a failed check, a stale form token, a
rate limit or a locked entry shows the form again with the text in it and a clear
message; a post from someone whose session has ended is saved as a draft and comes
back filled in after they sign in. The post view checks its own CSRF token (it is exempt
from the global check only so that it can answer with the form instead of an error
page); a post refused for its token does not count towards the posting limits, so a page
elsewhere cannot use up a member's allowance by posting for them. A comment on an entry
the viewer may not see answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from kb.comments import models, pages, queries
from kb.comments.forms import CommentForm, EditCommentForm
from kb.comments.service import (
    CommentError,
    discard_draft,
    edit_comment,
    new_draft_token,
    post_comment,
    save_draft,
    takes_comments,
)
from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.drafts.keeping import keeps_typed_text, restored_fields
from kb.drafts.service import discard_drafts
from kb.entries import queries as entry_queries
from kb.entries.models import Entry
from kb.entries.vocabulary import KIND_PLURALS
from kb.errors import error_page, unit_of_work
from kb.extensions import COMMENT_ADDRESS_SCOPE, COMMENT_PERSON_SCOPE, csrf, db, limiter, per_person
from kb.panels.cited_by import findings_citing
from kb.permissions import PermissionDeniedError, can, can_edit_comment, can_read_comment, current_viewer
from kb.previews import PreviewPart, preview_parts, wants_preview
from kb.states import CommentStatus

blueprint = Blueprint("comments", __name__)
PLURALS = "any(lessons, reviews, papers)"
THROTTLED_MESSAGE = "You have posted a lot of comments in a short time. Wait a minute, then post again."
CLOSED_NOTICE = "This discussion is closed by a moderator: it takes no new comments or replies."
Page = tuple[str, int]


def _limit(setting: str) -> str:
    return current_app.config[setting]


def _counts(_response: Response) -> bool:
    """Whether a post counts towards the posting limits: all do except previews and those refused for their token."""
    return not g.get("comment_token_refused") and not wants_preview()


def _find_visible_entry(plural: str, slug: str) -> Entry | None:
    entry = entry_queries.visible_entry(current_viewer(), slug)
    return entry if entry is not None and KIND_PLURALS[entry.kind] == plural else None


def _visible_entry(plural: str, slug: str) -> Entry:
    entry = _find_visible_entry(plural, slug)
    if entry is None:
        abort(404)
    return entry


def _visible_comment(comment_id: int) -> models.Comment:
    comment = queries.visible_comment(current_viewer(), comment_id)
    if comment is None:
        abort(404)
    return comment


def _form_page(
    form: CommentForm,
    entry: Entry,
    parent: models.Comment | None,
    *,
    status: int = 200,
    message: str | None = None,
    preview: list[PreviewPart] | None = None,
) -> Page:
    """The page with one comment form: a reply, a comment sent back because of a problem, or its preview."""
    viewer = current_viewer()
    can_post = can(viewer, "comment.post", entry) and takes_comments(entry)
    shown_parent = parent if parent is not None and can_read_comment(viewer, parent) else None
    page = render_template(
        "comments/form.html",
        form=form,
        entry=entry,
        parent=parent,
        shown_parent=shown_parent,
        can_post=can_post,
        message=message,
        preview=preview,
        action=url_for("comments.post", plural=KIND_PLURALS[entry.kind], slug=entry.slug),
    )
    return page, status


BAD_PARENT_MESSAGE = (
    "Your reply names a comment that is not a comment's number, so it was not posted. "
    "Your text is below: send it again to post it as a new comment."
)


def _find_parent(form: CommentForm, entry: Entry) -> tuple[bool, models.Comment | None]:
    """(found, parent): found is False when `parent_id` names no comment of this entry; never raises."""
    number = form.parent_number()
    if number is None:
        return True, None
    parent = db.session.get(models.Comment, number)
    if parent is None or parent.entry_id != entry.id or parent.finding_id is not None:
        return False, None
    return True, parent


def _parent_of(form: CommentForm, entry: Entry) -> models.Comment | None:
    found, parent = _find_parent(form, entry)
    if not found:
        abort(404)
    return parent


def _without_parent(form: CommentForm) -> CommentForm:
    """The form sent back after a malformed `parent_id`: text kept, reply dropped (a resend is a new comment)."""
    form.parent_id.data = ""
    return form


def _keep_as_draft(plural: str, slug: str) -> Response:
    """A post from someone signed out: keep the text and send them to sign in, then back to it."""
    # The form's token died with the session, so it is not checked: a draft is only offered back
    # to whoever signs in with its link, and posting it needs a fresh token. Whether or not the
    # entry exists (or may be seen) the answer looks the same, so it reveals nothing.
    entry = db.session.scalar(select(Entry).where(Entry.slug == slug))
    form = CommentForm(meta={"csrf": False})
    body = form.body.data or ""
    token = new_draft_token()
    if entry is not None and body.strip():
        parent = db.session.get(models.Comment, form.parent_number() or 0)
        save_draft(entry, body, parent=parent, token=token, address=get_remote_address())
        db.session.commit()
    back = f"/{plural}/{slug}?draft={token}#comment-form"
    flash("Sign in to post your comment. What you wrote has been kept and will be back in the form.", "info")
    return redirect(url_for("auth.login", next=back), code=303)


@blueprint.post(f"/<{PLURALS}:plural>/<slug>/comments")
@csrf.exempt
@limiter.shared_limit(
    lambda: _limit("COMMENT_LIMIT_PER_ADDRESS"),
    scope=COMMENT_ADDRESS_SCOPE,
    methods=["POST"],
    deduct_when=_counts,
    error_message=THROTTLED_MESSAGE,
)
@limiter.shared_limit(
    lambda: _limit("COMMENT_LIMIT_PER_USER"),
    scope=COMMENT_PERSON_SCOPE,
    key_func=per_person("comment"),
    methods=["POST"],
    deduct_when=_counts,
    error_message=THROTTLED_MESSAGE,
)
def post(plural: str, slug: str) -> Page | Response:
    """Post a comment on an entry, or a reply to one of its comments (`parent_id`)."""
    if not current_user.is_authenticated:
        return _keep_as_draft(plural, slug)
    entry = _visible_entry(plural, slug)
    form = CommentForm()
    valid = form.validate()
    # The token first: a post refused for it must not count towards the limits, whatever else is wrong.
    expired = token_expired(form)
    g.comment_token_refused = expired
    if form.malformed_parent():
        message = EXPIRED_MESSAGE if expired else BAD_PARENT_MESSAGE
        return _form_page(_without_parent(form), entry, None, status=400, message=message)
    parent = _parent_of(form, entry)
    if expired:
        return _form_page(form, entry, parent, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _form_page(form, entry, parent, status=400)
    if wants_preview():
        return _form_page(form, entry, parent, preview=preview_parts(form.body))
    try:
        with unit_of_work():
            comment = post_comment(entry, form.body.data or "", actor=current_user, parent=parent)
            discard_draft(form.draft.data)
            # What autosave kept of this form, on the entry's page or a reply page, is sent now.
            typed_on = [entry.path] + ([url_for("comments.reply", comment_id=parent.id)] if parent else [])
            discard_drafts(current_user.id, typed_on)
    except CommentError as error:
        return _form_page(form, entry, parent, status=error.status, message=str(error))
    flash("Your comment has been posted.", "success")
    return redirect(pages.permalink_for(comment), code=303)


# Lets the session check hand a signed-out post to the view, which keeps its text as a draft.
post.keeps_text_when_signed_out = True


@blueprint.errorhandler(RateLimitExceeded)
def _throttled(error: RateLimitExceeded) -> Page | Response:
    """Too many posts: the form again with the text in it, answering 429; 404 for an entry or parent not found.

    An error handler must answer, never `abort()`: an abort here would become a 500.
    """
    if request.endpoint != "comments.post" or not current_user.is_authenticated:
        return render_template("errors/http.html", error=error, code=429), 429
    args = request.view_args or {}
    entry = _find_visible_entry(str(args.get("plural", "")), str(args.get("slug", "")))
    if entry is None:
        return error_page(NotFound())
    form = CommentForm(meta={"csrf": False})
    message = f"{THROTTLED_MESSAGE} Your text is below."
    if form.malformed_parent():
        return _form_page(_without_parent(form), entry, None, status=429, message=message)
    found, parent = _find_parent(form, entry)
    if not found:
        return error_page(NotFound())
    return _form_page(form, entry, parent, status=429, message=message)


@blueprint.get("/comments/<int:comment_id>")
def permalink(comment_id: int) -> Response:
    """A comment's address: redirects to the page that shows it, scrolled to it."""
    return redirect(pages.permalink_for(_visible_comment(comment_id)))


@blueprint.get("/comments/<int:comment_id>/thread")
def thread(comment_id: int) -> str | Response:
    """The "continue this thread" page: the branch of a discussion starting at one comment.

    A finding's discussion is shown whole on the finding's page, so its comments lead there.
    """
    root = _visible_comment(comment_id)
    if root.finding is not None:
        return redirect(pages.permalink_for(root))
    viewer = current_viewer()
    discussion = pages.branch_discussion(root, viewer)
    parent_link = url_for("comments.permalink", comment_id=root.parent_id) if root.parent_id else None
    # Which of these comments findings cite ("cited by finding N of review X"), in one query.
    cited = findings_citing(viewer, comment_ids=[row.comment.id for row in discussion.rows]).comments
    return render_template(
        "comments/thread.html",
        entry=root.entry,
        root=root,
        discussion=discussion,
        up=parent_link,
        comment_cited_by=cited,
    )


@blueprint.get("/comments/<int:comment_id>/reply")
@login_required
def reply(comment_id: int) -> Page | Response:
    """A page with a reply form for one comment, for readers without JavaScript.

    A comment of a finding's discussion is answered in the form on the finding's page.
    """
    parent = _visible_comment(comment_id)
    if parent.finding is not None:
        return redirect(f"{pages.finding_page(parent.finding)}?reply={parent.id}#finding-comment-form")
    entry = parent.entry
    form = CommentForm(formdata=None, data={"parent_id": parent.id})
    status = 200
    message = None
    if not takes_comments(entry):
        status, message = 409, CLOSED_NOTICE
    elif parent.status != CommentStatus.VISIBLE:
        status, message = 409, "That comment was hidden or removed by a moderator, so it takes no replies."
    return _form_page(form, entry, parent, status=status, message=message)


def _edit_page(form: EditCommentForm, comment: models.Comment, *, status: int = 200, **extra: Any) -> Page:
    return render_template("comments/edit.html", form=form, comment=comment, entry=comment.entry, **extra), status


NO_LONGER_EDITABLE = (
    "This comment can no longer be changed: a moderator hid or removed it while you were editing. "
    "Your text is below, so you can keep a copy."
)


def _refused_edit(comment: models.Comment) -> Page:
    """403; an author whose comment was hidden while they edited it gets their text back with the reason."""
    if request.method != "POST" or comment.author_id != current_user.id:
        abort(403)
    return _edit_page(EditCommentForm(meta={"csrf": False}), comment, status=403, message=NO_LONGER_EDITABLE)


@blueprint.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def edit(comment_id: int) -> Page | Response:
    """Edit one's own comment; the previous text is kept as an earlier version."""
    comment = _visible_comment(comment_id)
    if not can_edit_comment(current_viewer(), comment):
        return _refused_edit(comment)
    if request.method == "GET":
        restored = restored_fields()
        if restored:
            return _edit_page(EditCommentForm(formdata=restored), comment)
        return _edit_page(EditCommentForm(formdata=None, data={"body": comment.body}), comment)
    form = EditCommentForm()
    valid = form.validate()
    if token_expired(form):
        return _edit_page(form, comment, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _edit_page(form, comment, status=400)
    if wants_preview():
        return _edit_page(form, comment, preview=preview_parts(form.body))
    try:
        with unit_of_work():
            edit_comment(comment, form.body.data or "", actor=current_user)
    except PermissionDeniedError:
        return _refused_edit(comment)
    except CommentError as error:
        return _edit_page(form, comment, status=error.status, message=str(error))
    flash("Your comment has been saved.", "success")
    return redirect(pages.permalink_for(comment), code=303)


@blueprint.get("/comments/<int:comment_id>/versions")
def versions(comment_id: int) -> str:
    """Earlier texts of an edited comment, for moderators; 404 for everyone else."""
    comment = _visible_comment(comment_id)
    if not can(current_viewer(), "comment.moderate", comment.entry):
        abort(404)
    return render_template("comments/versions.html", comment=comment, entry=comment.entry)
