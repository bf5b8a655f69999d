"""Curation pages and form handlers: feature, lock, a lesson's maturity and action status, and merging.

Moderators curate from `/moderation/curation` and the tools at the foot of each entry
page. Every page here answers 404 to everyone but moderators and admins; every POST
carries the form token (the global CSRF check).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kb.entries import queries as entry_queries
from kb.entries.models import Entry
from kb.entries.vocabulary import KINDS
from kb.errors import unit_of_work
from kb.moderation import curation, queries
from kb.moderation.forms import ActionStatusForm, MaturityForm, MergeForm, MergeSearchForm
from kb.moderation.service import ModerationError
from kb.permissions import can, current_viewer
from kb.states import EntryKind
from kb.users.routes import safe_next

blueprint = Blueprint("curation", __name__)
CURATION_ACTIONS = ("feature", "unfeature", "lock", "unlock")
Page = tuple[str, int]


def _require_curator() -> None:
    if not can(current_viewer(), "entry.curate"):
        abort(404)


def _visible_entry(slug: str) -> Entry:
    """The entry if the viewer may see it; else 404."""
    entry = entry_queries.visible_entry(current_viewer(), slug)
    if entry is None:
        abort(404)
    return entry


@blueprint.get("/moderation/curation")
def page() -> str:
    """Featured entries, entries whose discussion is locked, and recent merges."""
    _require_curator()
    viewer = current_viewer()
    return render_template(
        "moderation/curation.html",
        featured=entry_queries.featured_entries(viewer, queries.CURATION_LIST_LIMIT),
        locked=queries.locked(viewer),
        merged=queries.recently_merged(viewer),
    )


def _back_to(entry: Entry) -> str:
    return safe_next(request.form.get("back")) or entry.path


@blueprint.post(f"/moderation/entries/<slug>/<any({', '.join(CURATION_ACTIONS)}):action>")
def curate(slug: str, action: str) -> Response:
    """Feature or stop featuring an entry on the home page; lock or unlock its discussion."""
    _require_curator()
    entry = _visible_entry(slug)
    done = {
        "feature": f'"{entry.title}" is featured on the home page.',
        "unfeature": f'"{entry.title}" is no longer featured.',
        "lock": f'The discussion of "{entry.title}" is locked: it takes no new comments.',
        "unlock": f'The discussion of "{entry.title}" is open again.',
    }[action]
    try:
        with unit_of_work():
            if action in ("feature", "unfeature"):
                (curation.feature_entry if action == "feature" else curation.unfeature_entry)(entry, actor=current_user)
            else:
                curation.set_locked(entry, action == "lock", actor=current_user)
    except ModerationError as error:
        flash(str(error), "error")
        return redirect(_back_to(entry), code=303)
    flash(done, "success")
    return redirect(_back_to(entry), code=303)


@blueprint.post("/moderation/entries/<slug>/<any(maturity, 'action-status'):field>")
def set_lesson_field(slug: str, field: str) -> Response:
    """Set a lesson's maturity or its action status."""
    _require_curator()
    entry = _visible_entry(slug)
    form: FlaskForm = MaturityForm() if field == "maturity" else ActionStatusForm()
    if not form.validate():
        errors = [error for errors in form.errors.values() for error in errors]
        flash(" ".join(str(error) for error in errors) or "Choose one of the values listed.", "error")
        return redirect(_back_to(entry), code=303)
    try:
        with unit_of_work():
            if isinstance(form, MaturityForm):
                curation.set_maturity(entry, form.maturity.data or "", actor=current_user)
            else:
                curation.set_action_status(entry, form.action_status.data or "", actor=current_user)
    except ModerationError as error:
        flash(str(error), "error")
        return redirect(_back_to(entry), code=303)
    label = "maturity" if field == "maturity" else "action status"
    flash(f'The {label} of "{entry.title}" was saved.', "success")
    return redirect(_back_to(entry), code=303)


@blueprint.app_template_global("curation_forms")
def curation_forms(entry: Entry) -> dict[str, FlaskForm]:
    """The maturity and action status forms for a lesson's page, filled with its values."""
    if entry.kind != EntryKind.LESSON:
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
    _require_curator()
    duplicate = _visible_entry(slug)
    into_slug = request.form.get("into") if request.method == "POST" else request.args.get("into")
    target = entry_queries.visible_entry(current_viewer(), into_slug) if into_slug else None
    if into_slug and target is None:
        return _merge_page(duplicate, status=404, message="No entry has that address. Search again.")
    if target is None:
        return _merge_page(duplicate)
    form = MergeForm(data={"into": target.slug}) if request.method == "GET" else MergeForm()
    try:
        curation.check_merge(duplicate, target)
        if request.method == "GET" or not form.validate():
            return _merge_page(duplicate, target=target, form=form)
        with unit_of_work():
            curation.merge_entry(duplicate, target, actor=current_user)
    except ModerationError as error:
        return _merge_page(duplicate, status=409, message=str(error))
    flash(f'"{duplicate.title}" was merged into "{target.title}". Its address now leads here.', "success")
    return redirect(target.path, code=303)
