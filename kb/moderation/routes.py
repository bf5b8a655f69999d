"""Pages and form handlers for flags, the moderators' flag queue, and curation.

Members flag a comment or an entry at `/comments/<id>/flag` or `/<kind>/<slug>/flag`.
Moderators work through `/moderation/flags`, decide on one item at
`/moderation/comments/<id>` or `/moderation/entries/<slug>`, and curate entries from
`/moderation/curation` and the tools on each entry page. The forms with text in them
check their own CSRF token, so a stale token shows the form again with what was typed.
Staff pages answer 404 to everyone else, like the other staff pages; an item the viewer
may not see answers 404 too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kb.comments.models import Comment
from kb.entries import queries as entry_queries
from kb.entries.models import Entry
from kb.entries.vocabulary import KIND_PLURALS, KINDS
from kb.extensions import csrf, db, limiter
from kb.moderation import curation, queries, service
from kb.moderation.forms import (
    EXPIRED_MESSAGE,
    ActionStatusForm,
    DecisionForm,
    FlagForm,
    MaturityForm,
    MergeForm,
    MergeSearchForm,
)
from kb.moderation.models import FLAG_REASONS
from kb.moderation.service import DECISIONS, AlreadyFlaggedError, ModerationError
from kb.permissions import PermissionDeniedError, can, can_read_comment, can_view_entry, current_viewer
from kb.users.routes import safe_next

blueprint = Blueprint("moderation", __name__)
PLURALS = "any(lessons, reviews, papers)"
CURATION_ACTIONS = ("feature", "unfeature", "lock", "unlock")
THROTTLED_MESSAGE = "You have flagged a lot in a short time. Wait a while, then send this again: your note is below."
Page = tuple[str, int]


MERGED_ENTRY_ENDPOINTS = frozenset({"exports.entry_markdown", "exports.entry_csv"})
"""Other pages named by an entry's slug that follow a merged duplicate to its target, as its page and history do."""


@blueprint.before_app_request
def _follow_merged_entry() -> Response | None:
    """Send a merged duplicate's comment exports for good to the target's, for those who may see the target."""
    if request.endpoint not in MERGED_ENTRY_ENDPOINTS or request.method != "GET":
        return None
    target = entry_queries.merged_target(current_viewer(), (request.view_args or {}).get("slug", ""))
    if target is None:
        return None
    return redirect(url_for(request.endpoint, plural=KIND_PLURALS[target.kind], slug=target.slug), code=301)


def _readable_comment(comment_id: int) -> Comment:
    """The comment if the viewer may see its entry and read its text; else 404."""
    viewer = current_viewer()
    comment = db.session.get(Comment, comment_id)
    if comment is None or not can_view_entry(viewer, comment.entry) or not can_read_comment(viewer, comment):
        abort(404)
    return comment


def _visible_entry(slug: str, plural: str | None = None) -> Entry:
    """The entry if the viewer may see it (and the URL names its kind); else 404."""
    entry = queries.entry_by_slug(current_viewer(), slug)
    if entry is None or (plural is not None and KIND_PLURALS[entry.kind] != plural):
        abort(404)
    return entry


def _require_staff(action: str = "entry.moderate") -> None:
    if not can(current_viewer(), action):
        abort(404)


def _token_expired(form: FlaskForm) -> bool:
    """True when the form's own CSRF check failed; the raw error is replaced by a clear message."""
    expired = bool(form.meta.csrf and form.csrf_token.errors)
    if expired:
        form.csrf_token.errors = []
    return expired


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
    if _token_expired(form):
        return _flag_page(form, entry, comment, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _flag_page(form, entry, comment, status=400)
    back = url_for("comments.permalink", comment_id=comment.id) if comment is not None else entry.path
    try:
        service.raise_flag(
            entry, actor=current_user, reason=form.reason.data or "", note=form.note.data or "", comment=comment
        )
        db.session.commit()
    except AlreadyFlaggedError as error:
        db.session.rollback()
        flash(str(error), "info")
        return redirect(back, code=303)
    except PermissionDeniedError:
        db.session.rollback()
        abort(404)
    except ModerationError as error:
        db.session.rollback()
        return _flag_page(form, entry, comment, status=400, message=str(error))
    flash("Thank you: the moderators have been told and will look at it.", "success")
    return redirect(back, code=303)


def _flagger_key() -> str:
    """The rate-limit key for one signed-in member's flags, whichever address they use."""
    if current_user.is_authenticated:
        return f"flag-user:{current_user.get_id()}"
    return f"flag-address:{request.remote_addr}"


def _flag_limit() -> str:
    return current_app.config["FLAG_LIMIT_PER_USER"]


flag_limit = limiter.limit(_flag_limit, key_func=_flagger_key, methods=["POST"], error_message=THROTTLED_MESSAGE)


@blueprint.errorhandler(RateLimitExceeded)
def _throttled(error: RateLimitExceeded) -> Page:
    """Too many flags: the form again with what was typed, answering 429."""
    args = request.view_args or {}
    if request.endpoint == "moderation.flag_comment":
        comment = _readable_comment(args["comment_id"])
        entry: Entry = comment.entry
    elif request.endpoint == "moderation.flag_entry":
        comment, entry = None, _visible_entry(args["slug"], args["plural"])
    else:
        return render_template("errors/http.html", error=error, code=429), 429
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
    item = queries.flagged_item(current_viewer(), entry, comment)
    page = render_template("moderation/item.html", item=item, form=form, **extra)
    return page, status


def _decide(entry: Entry, comment: Comment | None) -> Page | Response:
    """Show one item's moderation page, or take the decision posted on it."""
    if request.method == "GET":
        return _item_page(entry, comment, decision_form(entry, comment))
    form = decision_form(entry, comment, formdata=request.form)
    form.decision.data = request.form.get("decision", "")
    valid = form.validate()
    if _token_expired(form):
        return _item_page(entry, comment, form, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _item_page(entry, comment, form, status=400)
    decision, reason = form.decision.data, form.reason.data or ""
    try:
        if comment is not None:
            decided = service.decide_comment(comment, decision, actor=current_user, reason=reason)
        else:
            decided = service.decide_entry(entry, decision, actor=current_user, reason=reason)
        db.session.commit()
    except PermissionDeniedError:
        db.session.rollback()
        abort(404)
    except ModerationError as error:
        db.session.rollback()
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


@blueprint.app_template_global("moderation_decision_form")
def moderation_decision_form(entry: Entry, comment: Comment | None = None) -> DecisionForm:
    """A comment's or entry's decision form for the tools on its page; templates ask `can()` first."""
    return decision_form(entry, comment)


# --- Curation ------------------------------------------------------------------------------------


@blueprint.get("/moderation/curation")
def curation_page() -> str:
    """Featured entries, entries whose discussion is locked, and recent merges."""
    _require_staff("entry.curate")
    viewer = current_viewer()
    return render_template(
        "moderation/curation.html",
        featured=queries.featured(viewer),
        locked=queries.locked(viewer),
        merged=queries.recently_merged(viewer),
    )


def _back_to(entry: Entry) -> str:
    return safe_next(request.form.get("back")) or entry.path


@blueprint.post(f"/moderation/entries/<slug>/<any({', '.join(CURATION_ACTIONS)}):action>")
def curate(slug: str, action: str) -> Response:
    """Feature or stop featuring an entry on the home page; lock or unlock its discussion."""
    _require_staff("entry.curate")
    entry = _visible_entry(slug)
    done = {
        "feature": f'"{entry.title}" is featured on the home page.',
        "unfeature": f'"{entry.title}" is no longer featured.',
        "lock": f'The discussion of "{entry.title}" is locked: it takes no new comments.',
        "unlock": f'The discussion of "{entry.title}" is open again.',
    }[action]
    try:
        if action in ("feature", "unfeature"):
            (curation.feature_entry if action == "feature" else curation.unfeature_entry)(entry, actor=current_user)
        else:
            curation.set_locked(entry, action == "lock", actor=current_user)
        db.session.commit()
    except ModerationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_back_to(entry), code=303)
    flash(done, "success")
    return redirect(_back_to(entry), code=303)


@blueprint.post("/moderation/entries/<slug>/<any(maturity, 'action-status'):field>")
def set_lesson_field(slug: str, field: str) -> Response:
    """Set a lesson's maturity or its action status."""
    _require_staff("entry.curate")
    entry = _visible_entry(slug)
    form: FlaskForm = MaturityForm() if field == "maturity" else ActionStatusForm()
    if not form.validate():
        errors = [error for errors in form.errors.values() for error in errors]
        flash(" ".join(str(error) for error in errors) or "Choose one of the values listed.", "error")
        return redirect(_back_to(entry), code=303)
    try:
        if isinstance(form, MaturityForm):
            curation.set_maturity(entry, form.maturity.data or "", actor=current_user)
        else:
            curation.set_action_status(entry, form.action_status.data or "", actor=current_user)
        db.session.commit()
    except ModerationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_back_to(entry), code=303)
    label = "maturity" if field == "maturity" else "action status"
    flash(f'The {label} of "{entry.title}" was saved.', "success")
    return redirect(_back_to(entry), code=303)


@blueprint.app_template_global("curation_forms")
def curation_forms(entry: Entry) -> dict[str, FlaskForm]:
    """The maturity and action status forms for a lesson's page, filled with its values."""
    if entry.kind != "lesson":
        return {}
    return {
        "maturity": MaturityForm(formdata=None, data={"maturity": getattr(entry, "maturity", None)}),
        "action_status": ActionStatusForm(formdata=None, data={"action_status": getattr(entry, "action_status", None)}),
    }


def _merge_page(duplicate: Entry, *, status: int = 200, **extra: Any) -> Page:
    search = MergeSearchForm(request.args)
    text = search.q.data or "" if search.validate() else ""
    candidates = queries.merge_candidates(current_viewer(), duplicate, text) if text else []
    page = render_template(
        "moderation/merge.html",
        duplicate=duplicate,
        search=search,
        candidates=candidates,
        searched=bool(text),
        kind_label=KINDS[duplicate.kind].lower(),
        **extra,
    )
    return page, status


@blueprint.route("/moderation/entries/<slug>/merge", methods=["GET", "POST"])
def merge(slug: str) -> Page | Response:
    """Merge a duplicate into another entry: find it, confirm with both shown, then merge."""
    _require_staff("entry.curate")
    duplicate = _visible_entry(slug)
    into_slug = request.form.get("into") if request.method == "POST" else request.args.get("into")
    target = queries.entry_by_slug(current_viewer(), into_slug) if into_slug else None
    if into_slug and target is None:
        return _merge_page(duplicate, status=404, message="No entry has that address. Search again.")
    if target is None:
        return _merge_page(duplicate)
    form = MergeForm(data={"into": target.slug}) if request.method == "GET" else MergeForm()
    try:
        curation.check_merge(duplicate, target)
        if request.method == "GET" or not form.validate():
            return _merge_page(duplicate, target=target, form=form)
        curation.merge_entry(duplicate, target, actor=current_user)
        db.session.commit()
    except ModerationError as error:
        db.session.rollback()
        return _merge_page(duplicate, status=409, message=str(error))
    flash(f'"{duplicate.title}" was merged into "{target.title}". Its address now leads here.', "success")
    return redirect(target.path, code=303)
