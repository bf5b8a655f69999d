"""The panel's discussion of a finding: posting a thread or a reply, resolving and reopening threads.

Added to the `panels` blueprint. Everything here is for those who may work on the
finding (its review's panel and staff); everyone else gets 404. Posting keeps what was
typed as the comment form does: a refused post (a failed check, a locked review) shows
the finding's page again with the text in the form, a preview shows it rendered, and a
post from an ended session or with a stale token is kept as a draft
(`kb.drafts.keeping`). Resolving is for the thread's opener and the finding's holder
(403 for the rest of the panel).
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from kb.comments.forms import CommentForm
from kb.comments.models import Comment
from kb.comments.pages import permalink_for
from kb.comments.routes import THROTTLED_MESSAGE
from kb.comments.service import CommentError, post_comment
from kb.comments.tree import SHOWN_DEPTH
from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.drafts.keeping import keeps_typed_text
from kb.entries.models import Review
from kb.errors import error_page, unit_of_work
from kb.extensions import csrf, db, limiter, per_person
from kb.panels import queries
from kb.panels.discussion import reopen_thread, resolve_thread
from kb.panels.discussion_pages import FORM_ID, finding_discussion
from kb.panels.models import Finding
from kb.panels.routes import FINDING, Page, blueprint, finding_page
from kb.permissions import PermissionDeniedError, can_read_comment, current_viewer
from kb.previews import preview_parts, wants_preview

TOO_DEEP_MESSAGE = "That reply is as deep as a finding's discussion goes. Reply to an earlier comment in the thread."
BAD_PARENT_MESSAGE = (
    "Your reply names a comment that is not in this discussion, so it was not posted. "
    "Your text is below: send it again to post it as a new thread."
)


def _discussed_finding(slug: str, number: int) -> tuple[Review, Finding]:
    """The review and finding if the viewer may work on the finding (and so discuss it); else 404."""
    viewer = current_viewer()
    review = queries.workspace_review(viewer, slug)
    finding = queries.visible_finding(viewer, review, number) if review is not None else None
    if review is None or finding is None:
        abort(404)
    return review, finding


def _page_address(slug: str, number: int) -> str:
    return url_for("panels.finding", slug=slug, number=number)


def _again(review: Review, finding: Finding, form: CommentForm, *, status: int, message: str | None = None) -> Page:
    """The finding's page with the discussion's form as it was sent (and why it was not posted)."""
    discussion = finding_discussion(current_viewer(), finding, form=form, message=message)
    return finding_page(review, finding, discussion=discussion, status=status)


def _parent(form: CommentForm, finding: Finding) -> tuple[bool, Comment | None]:
    """(found, parent): found is False when `parent_id` names no readable comment of this finding's discussion."""
    if form.malformed_parent():
        return False, None
    number = form.parent_number()
    if number is None:
        return True, None
    parent = db.session.get(Comment, number)
    if parent is None or parent.finding_id != finding.id or not can_read_comment(current_viewer(), parent):
        return False, None
    return True, parent


def _counts(_response: Response) -> bool:
    """Whether a post counts towards the comment limits: only one with a good token that is not a preview.

    A post refused for its token (kept as a draft by `keeps_typed_text`) never reaches the view's mark.
    """
    return bool(g.get("finding_comment_counts")) and not wants_preview()


@blueprint.post(f"{FINDING}/comments")
@csrf.exempt
@limiter.limit(
    lambda: current_app.config["COMMENT_LIMIT_PER_USER"],
    key_func=per_person("comment"),
    methods=["POST"],
    deduct_when=_counts,
    error_message=THROTTLED_MESSAGE,
)
@keeps_typed_text(_page_address, anchor=FORM_ID)
@login_required
def post_finding_comment(slug: str, number: int) -> Page | Response:
    """Start a thread in the finding's discussion, or reply in one (`parent_id`); Preview shows it rendered."""
    review, finding = _discussed_finding(slug, number)
    form = CommentForm()
    valid = form.validate()
    if token_expired(form):
        return _again(review, finding, form, status=400, message=EXPIRED_MESSAGE)
    g.finding_comment_counts = True
    found, parent = _parent(form, finding)
    if not found:
        form.parent_id.data = ""
        return _again(review, finding, form, status=400, message=BAD_PARENT_MESSAGE)
    if parent is not None and parent.depth >= SHOWN_DEPTH - 1:
        return _again(review, finding, form, status=400, message=TOO_DEEP_MESSAGE)
    if not valid:
        return _again(review, finding, form, status=400)
    if wants_preview():
        discussion = finding_discussion(current_viewer(), finding, form=form, preview=preview_parts(form.body))
        return finding_page(review, finding, discussion=discussion)
    try:
        with unit_of_work():
            comment = post_comment(review, form.body.data or "", actor=current_user, parent=parent, finding=finding)
    except CommentError as error:
        return _again(review, finding, form, status=error.status, message=str(error))
    flash("Your comment has been posted. The panel has been told.", "success")
    return redirect(permalink_for(comment), code=303)


@blueprint.errorhandler(RateLimitExceeded)
def _throttled(error: RateLimitExceeded) -> Page | Response:
    """Too many comments: the finding's page again with the text in the form, answering 429.

    An error handler must answer, never `abort()`; a finding the viewer may not discuss is a 404 page.
    """
    args = request.view_args or {}
    if request.endpoint != "panels.post_finding_comment" or not current_user.is_authenticated:
        return render_template("errors/http.html", error=error, code=429), 429
    viewer = current_viewer()
    review = queries.workspace_review(viewer, str(args.get("slug", "")))
    finding = queries.visible_finding(viewer, review, int(args.get("number", 0))) if review is not None else None
    if review is None or finding is None:
        return error_page(NotFound())
    form = CommentForm(meta={"csrf": False})
    found, _ = _parent(form, finding)
    if not found:
        form.parent_id.data = ""
    return _again(review, finding, form, status=429, message=f"{THROTTLED_MESSAGE} Your text is below.")


@blueprint.post(f"{FINDING}/comments/<int:comment_id>/resolve")
@login_required
def resolve_finding_thread(slug: str, number: int, comment_id: int) -> Response:
    """Mark a thread of the finding's discussion resolved (`action=resolve`) or open it again (`action=reopen`)."""
    _, finding = _discussed_finding(slug, number)
    opener = db.session.get(Comment, comment_id)
    if opener is None or opener.finding_id != finding.id or opener.parent_id is not None:
        abort(404)
    reopen = request.form.get("action") == "reopen"
    try:
        with unit_of_work():
            (reopen_thread if reopen else resolve_thread)(opener, finding, actor=current_user)
    except PermissionDeniedError:
        abort(403)
    flash("The thread is open again." if reopen else "The thread is resolved and folded away.", "success")
    # To the thread itself, not its first comment: a link into a folded thread would unfold it.
    return redirect(f"{url_for('panels.finding', slug=slug, number=number)}#thread-{opener.id}", code=303)
