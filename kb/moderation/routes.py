"""Pages and form handlers for flags, the moderators' flag queue, and their decisions.

Members flag a comment or an entry at `/comments/<id>/flag` or `/<kind>/<slug>/flag`.
Moderators work through `/moderation/flags` and decide on one item at
`/moderation/comments/<id>` or `/moderation/entries/<slug>` (curation is in
`kb.moderation.curation_routes`). The forms with text in them
check their own CSRF token, so a stale token shows the form again with what was typed.
Staff pages answer 404 to everyone else, like the other staff pages; an item the viewer
may not see answers 404 too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from kb.comments import queries as comment_queries
from kb.comments.models import Comment
from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.entries import queries as entry_queries
from kb.entries.models import Entry
from kb.entries.vocabulary import KIND_PLURALS
from kb.errors import error_page, unit_of_work
from kb.extensions import csrf, limiter, per_person
from kb.moderation import queries, service
from kb.moderation.forms import DecisionForm, FlagForm
from kb.moderation.models import FLAG_REASONS
from kb.moderation.service import DECISIONS, AlreadyFlaggedError, ModerationError
from kb.permissions import can, can_read_comment, current_viewer
from kb.users.routes import safe_next

blueprint = Blueprint("moderation", __name__)
PLURALS = "any(lessons, reviews, papers)"
THROTTLED_MESSAGE = "You have flagged a lot in a short time. Wait a while, then send this again: your note is below."
Page = tuple[str, int]


def _find_readable_comment(comment_id: int) -> Comment | None:
    viewer = current_viewer()
    comment = comment_queries.visible_comment(viewer, comment_id)
    return comment if comment is not None and can_read_comment(viewer, comment) else None


def _readable_comment(comment_id: int) -> Comment:
    """The comment if the viewer may see its entry and read its text; else 404."""
    comment = _find_readable_comment(comment_id)
    if comment is None:
        abort(404)
    return comment


def _find_visible_entry(slug: str, plural: str | None = None) -> Entry | None:
    entry = entry_queries.visible_entry(current_viewer(), slug)
    if entry is None or (plural is not None and KIND_PLURALS[entry.kind] != plural):
        return None
    return entry


def _visible_entry(slug: str, plural: str | None = None) -> Entry:
    """The entry if the viewer may see it (and the URL names its kind); else 404."""
    entry = _find_visible_entry(slug, plural)
    if entry is None:
        abort(404)
    return entry


def _require_staff(action: str = "entry.moderate") -> None:
    if not can(current_viewer(), action):
        abort(404)


def _item_key(entry: Entry, comment: Comment | None) -> str:
    return f"comment-{comment.id}" if comment is not None else f"entry-{entry.id}"


def decision_form(entry: Entry, comment: Comment | None = None, *, formdata: Any = None) -> DecisionForm:
    """The decision form of one item, its fields prefixed so several fit on one page."""
    return DecisionForm(formdata=formdata, prefix=f"{_item_key(entry, comment)}-")


# --- Flagging ------------------------------------------------------------------------------------


def _flag_page(form: FlagForm, entry: Entry, comment: Comment | None, *, status: int = 200, **extra: Any) -> Page:
    already = service.has_flagged(current_user, entry, comment)
    page = render_template("moderation/flag.html", form=form, entry=entry, comment=comment, already=already, **extra)
    return page, status


def _flag(entry: Entry, comment: Comment | None) -> Page | Response:
    """Show the flag form, or raise the flag that was posted."""
    if not can(current_viewer(), "flag.raise", entry):
        abort(404)
    if request.method == "GET":
        return _flag_page(FlagForm(formdata=None), entry, comment)
    form = FlagForm()
    valid = form.validate()
    if token_expired(form):
        return _flag_page(form, entry, comment, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _flag_page(form, entry, comment, status=400)
    back = url_for("comments.permalink", comment_id=comment.id) if comment is not None else entry.path
    try:
        with unit_of_work():
            service.raise_flag(
                entry, actor=current_user, reason=form.reason.data or "", note=form.note.data or "", comment=comment
            )
    except AlreadyFlaggedError as error:
        flash(str(error), "info")
        return redirect(back, code=303)
    except ModerationError as error:
        return _flag_page(form, entry, comment, status=400, message=str(error))
    flash("Thank you: the moderators have been told and will look at it.", "success")
    return redirect(back, code=303)


def _flag_limit() -> str:
    return current_app.config["FLAG_LIMIT_PER_USER"]


flag_limit = limiter.limit(_flag_limit, key_func=per_person("flag"), methods=["POST"], error_message=THROTTLED_MESSAGE)


@blueprint.errorhandler(RateLimitExceeded)
def _throttled(error: RateLimitExceeded) -> Page:
    """Too many flags: the form again with what was typed, answering 429; 404 for an item not found.

    An error handler must answer, never `abort()`: an abort here would become a 500.
    """
    args = request.view_args or {}
    entry: Entry | None
    if request.endpoint == "moderation.flag_comment":
        comment = _find_readable_comment(args["comment_id"])
        entry = comment.entry if comment is not None else None
    elif request.endpoint == "moderation.flag_entry":
        comment, entry = None, _find_visible_entry(args["slug"], args["plural"])
    else:
        return render_template("errors/http.html", error=error, code=429), 429
    if entry is None or not current_user.is_authenticated or not can(current_viewer(), "flag.raise", entry):
        return error_page(NotFound())
    return _flag_page(FlagForm(meta={"csrf": False}), entry, comment, status=429, message=THROTTLED_MESSAGE)


@blueprint.route("/comments/<int:comment_id>/flag", methods=["GET", "POST"])
@csrf.exempt
@login_required
@flag_limit
def flag_comment(comment_id: int) -> Page | Response:
    """Flag a comment the member can read for the moderators, with a reason."""
    comment = _readable_comment(comment_id)
    return _flag(comment.entry, comment)


@blueprint.route(f"/<{PLURALS}:plural>/<slug>/flag", methods=["GET", "POST"])
@csrf.exempt
@login_required
@flag_limit
def flag_entry(plural: str, slug: str) -> Page | Response:
    """Flag an entry the member can see for the moderators, with a reason."""
    return _flag(_visible_entry(slug, plural), None)


# --- The flag queue and decisions ----------------------------------------------------------------


@blueprint.get("/moderation/flags")
def flags() -> str:
    """Every flagged item with its open flags and context, the longest-waiting first."""
    _require_staff()
    items = queries.open_flag_items(current_viewer())
    forms = {item.key: decision_form(item.entry, item.comment) for item in items}
    return render_template("moderation/flags.html", items=items, forms=forms, reasons=FLAG_REASONS)


def _item_page(entry: Entry, comment: Comment | None, form: DecisionForm, *, status: int = 200, **extra: Any) -> Page:
    item = queries.flagged_item(entry, comment)
    page = render_template("moderation/item.html", item=item, form=form, **extra)
    return page, status


def _decide(entry: Entry, comment: Comment | None) -> Page | Response:
    """Show one item's moderation page, or take the decision posted on it."""
    if request.method == "GET":
        return _item_page(entry, comment, decision_form(entry, comment))
    form = decision_form(entry, comment, formdata=request.form)
    form.decision.data = request.form.get("decision", "")
    valid = form.validate()
    if token_expired(form):
        return _item_page(entry, comment, form, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _item_page(entry, comment, form, status=400)
    decision, reason = form.decision.data, form.reason.data or ""
    try:
        with unit_of_work():
            if comment is not None:
                decided = service.decide_comment(comment, decision, actor=current_user, reason=reason)
            else:
                decided = service.decide_entry(entry, decision, actor=current_user, reason=reason)
    except ModerationError as error:
        return _item_page(entry, comment, form, status=409, message=str(error))
    resolved = f" {decided.flags_resolved} flag{'s' if decided.flags_resolved != 1 else ''} resolved."
    flash(decided.summary + (resolved if decided.flags_resolved else ""), "success")
    return redirect(safe_next(form.back.data) or url_for(".flags"), code=303)


@blueprint.route("/moderation/comments/<int:comment_id>", methods=["GET", "POST"])
@csrf.exempt
def comment_item(comment_id: int) -> Page | Response:
    """One comment in context with its flags: hide, restore, remove, or dismiss its flags."""
    _require_staff("comment.moderate")
    comment = _readable_comment(comment_id)
    return _decide(comment.entry, comment)


@blueprint.route("/moderation/entries/<slug>", methods=["GET", "POST"])
@csrf.exempt
def entry_item(slug: str) -> Page | Response:
    """One entry with its flags: hide, restore (publish again), remove, or dismiss its flags."""
    _require_staff()
    return _decide(_visible_entry(slug), None)


@blueprint.app_template_global("moderation_decisions")
def moderation_decisions(entry: Entry, comment: Comment | None = None, flagged: bool = False) -> list[tuple[str, str]]:
    """The decisions a moderator can take on an item now, with their labels, for its buttons."""
    decisions = service.available_decisions(entry, comment, flagged=flagged)
    return [(decision, DECISIONS[decision]) for decision in decisions]
