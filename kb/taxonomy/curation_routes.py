"""Moderators' pages for curating tags: the list (unthemed first), one tag's page, and its three forms.

Every page here answers 404 to everyone but moderators and admins; every POST carries the
form token (the global CSRF check). A form with a problem shows the tag's page again with
the message and what was typed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from kb.errors import unit_of_work
from kb.permissions import can, current_viewer
from kb.taxonomy import curation
from kb.taxonomy.curation import TagCurationError
from kb.taxonomy.forms import MergeTagForm, MoveTagForm, RenameTagForm
from kb.taxonomy.models import Tag

blueprint = Blueprint("tag_curation", __name__)
Page = tuple[str, int]


def _require_curator() -> None:
    if not can(current_viewer(), "taxonomy.curate"):
        abort(404)


def _tag(slug: str) -> Tag:
    _require_curator()
    found = curation.find_tag(slug)
    if found is None:
        abort(404)
    return found


def _forms(tag: Tag, **given: Any) -> dict[str, Any]:
    """The tag page's three forms, each as posted when given, else filled from the tag."""
    rename = given.get("rename")
    if rename is None:
        rename = RenameTagForm(formdata=None, label=tag.label, slug=tag.slug)
    merge = given.get("merge")
    if merge is None:
        merge = MergeTagForm(formdata=None)
    move = given.get("move")
    if move is None:
        move = MoveTagForm(formdata=None, theme=tag.theme.slug if tag.theme else "")
    others = [other for other, _ in curation.tags_with_use() if other.id != tag.id]
    merge.into.choices = [("", "Choose a tag"), *((other.slug, f"{other.label} ({other.slug})") for other in others)]
    themes = curation.themes_in_order()
    move.theme.choices = [("", "No theme (a free tag)"), *((theme.slug, theme.label) for theme in themes)]
    return {"rename": rename, "merge": merge, "move": move}


def _tag_page(tag: Tag, *, status: int = 200, message: str | None = None, **given: Any) -> Page:
    uses = next((count for other, count in curation.tags_with_use() if other.id == tag.id), 0)
    page = render_template("taxonomy/curate_tag.html", tag=tag, uses=uses, message=message, **_forms(tag, **given))
    return page, status


@blueprint.get("/moderation/tags")
def tags() -> str:
    """Every tag with how many entries carry it: the unthemed ones first, then each theme's."""
    _require_curator()
    rows = curation.tags_with_use()
    return render_template(
        "taxonomy/curation.html",
        unthemed=[(tag, count) for tag, count in rows if tag.theme_id is None],
        themed=[(tag, count) for tag, count in rows if tag.theme_id is not None],
    )


@blueprint.get("/moderation/tags/<tag_slug>")
def tag(tag_slug: str) -> Page:
    """One tag's curation page: rename it, merge it into another, move it into a theme."""
    return _tag_page(_tag(tag_slug))


@blueprint.post("/moderation/tags/<tag_slug>/rename")
def rename(tag_slug: str) -> Page | Response:
    """Rename a tag; a new address retags its entries and the old address redirects."""
    found = _tag(tag_slug)
    form = RenameTagForm()
    if not form.validate():
        return _tag_page(found, status=400, rename=form)
    try:
        with unit_of_work():
            retagged = curation.rename_tag(found, label=form.label.data, slug=form.slug.data or "", actor=current_user)
    except TagCurationError as error:
        return _tag_page(found, status=400, message=str(error), rename=form)
    flash(f"The tag is now “{found.label}”. {_retagged(retagged)}", "success")
    return redirect(url_for(".tag", tag_slug=found.slug), code=303)


@blueprint.post("/moderation/tags/<tag_slug>/merge")
def merge(tag_slug: str) -> Page | Response:
    """Merge a tag into another: its entries carry the other instead, and its address redirects there."""
    found = _tag(tag_slug)
    form = MergeTagForm()
    _forms(found, merge=form)
    if not form.validate():
        return _tag_page(found, status=400, merge=form)
    target = curation.find_tag(form.into.data or "")
    if target is None:
        abort(404)
    label = found.label
    try:
        with unit_of_work():
            retagged = curation.merge_tag(found, target, actor=current_user)
    except TagCurationError as error:
        return _tag_page(found, status=400, message=str(error), merge=form)
    flash(f"“{label}” is merged into “{target.label}”. {_retagged(retagged)}", "success")
    return redirect(url_for(".tag", tag_slug=target.slug), code=303)


@blueprint.post("/moderation/tags/<tag_slug>/move")
def move(tag_slug: str) -> Page | Response:
    """Move a tag into a theme, or out of its theme."""
    found = _tag(tag_slug)
    form = MoveTagForm()
    _forms(found, move=form)
    if not form.validate():
        return _tag_page(found, status=400, move=form)
    theme = next((theme for theme in curation.themes_in_order() if theme.slug == form.theme.data), None)
    try:
        with unit_of_work():
            curation.move_tag(found, theme, actor=current_user)
    except TagCurationError as error:
        return _tag_page(found, status=400, message=str(error), move=form)
    flash(f"“{found.label}” is now in {f'the theme “{theme.label}”' if theme else 'no theme'}.", "success")
    return redirect(url_for(".tag", tag_slug=found.slug), code=303)


def _retagged(count: int) -> str:
    if not count:
        return "No entry carried it."
    return f"{count} {'entry was' if count == 1 else 'entries were'} retagged, each with a new revision."
