"""The staff editors' request handling: write a review or a paper, and edit any entry by its fields.

The routes in `kb.contributions.routes` check who may use these pages and call the two
handlers here. Like the member's lesson form, these forms check their own CSRF token so a
stale one re-shows the form with everything typed. "Preview" re-shows the form with the
rendered text, "Add another source" with one more source row; "Save" saves a revision.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from kb.content.document import EntryDocument
from kb.contributions import pages
from kb.contributions.forms import EXPIRED_MESSAGE, over_limit, token_expired
from kb.contributions.service import (
    DocumentProblemsError,
    EditConflictError,
    current_document,
    unique_slug,
)
from kb.contributions.staff_forms import SOURCES_MAX, StaffForm
from kb.contributions.staff_pages import document_from_form, form_data, new_document, staff_form, valid_form
from kb.contributions.staff_service import create_entry, preview_document, save_fields
from kb.drafts.keeping import restored_fields
from kb.entries.models import Entry, Review
from kb.entries.queries import revision_of
from kb.entries.service import current_revision
from kb.entries.vocabulary import KINDS
from kb.errors import unit_of_work
from kb.panels.queries import panel_members
from kb.states import EntryKind

Page = tuple[str, int]
RESERVED_SLUGS = frozenset({"new"})
"""Slugs a new entry may not take: they are the addresses of pages."""


def _page(form: StaffForm, kind: str, entry: Entry | None, *, status: int = 200, **extra: Any) -> Page:
    groups = pages.tag_groups() if kind == EntryKind.LESSON else []
    panel = panel_members(entry) if isinstance(entry, Review) else None
    return render_template(
        "contributions/staff_form.html", form=form, kind=kind, entry=entry, groups=groups, panel=panel, **extra
    ), status


def _starting_document(kind: str, entry: Entry | None) -> EntryDocument:
    return current_document(entry)[1] if entry is not None else new_document(kind, "preview")


def _new_slug(title: str, kind: str) -> str:
    slug = unique_slug(title)
    return unique_slug(f"{title} {KINDS[kind]}") if slug in RESERVED_SLUGS else slug


def _conflict(form: StaffForm, kind: str, entry: Entry, conflict: EditConflictError) -> Page:
    """Show the other change as a diff, keep what was typed, and rebase the form on the newer revision."""
    form.base_revision.data = str(conflict.current.number)
    message = (
        f"{conflict.current.author_name} saved a newer version (revision {conflict.current.number}) "
        "while you were editing. Your changes have not been saved and are still below. Compare them with "
        "their change, then save again to replace their version of these fields with yours."
    )
    return _page(form, kind, entry, status=409, message=message, conflict=pages.conflict_view(conflict))


def _race(entry: Entry, form: StaffForm) -> EditConflictError:
    current = current_revision(entry)
    assert current is not None
    number = pages.base_number(form.base_revision.data)
    return EditConflictError(revision_of(entry, number) if number else None, current)


def _add_source(form: StaffForm, kind: str, entry: Entry | None) -> Page:
    """The form again with one more blank source row; only the token is checked."""
    if form.meta.csrf:
        form.csrf_token.validate(form)
    if token_expired(form):
        return _page(form, kind, entry, status=400, message=EXPIRED_MESSAGE)
    if len(form.sources) < SOURCES_MAX:
        form.sources.append_entry()
    return _page(form, kind, entry)


def _save(form: StaffForm, kind: str, entry: Entry | None) -> Entry:
    """Create the entry, or save the edit as its next revision. Raises what the services raise."""
    with unit_of_work():
        if entry is None:
            document = document_from_form(form, new_document(kind, _new_slug(form.title.data or "", kind)))
            return create_entry(document, actor=current_user)
        _, base = current_document(entry)
        save_fields(
            entry,
            document_from_form(form, base),
            actor=current_user,
            base_number=pages.base_number(form.base_revision.data),
            message=(form.message.data or "").strip(),
        )
        return entry


def _handle_post(form: StaffForm, kind: str, entry: Entry | None) -> Page | Response:
    action = request.form.get("action", "save")
    if action == "add-source":
        return _add_source(form, kind, entry)
    valid = valid_form(form)
    if token_expired(form):
        return _page(form, kind, entry, status=400, message=EXPIRED_MESSAGE)
    if action == "preview":
        if over_limit(form):
            return _page(form, kind, entry, status=400)
        document = document_from_form(form, _starting_document(kind, entry))
        preview = preview_document(document, actor=current_user, entry=entry)
        return _page(form, kind, entry, status=200 if valid else 400, preview=preview)
    if not valid:
        return _page(form, kind, entry, status=400)
    try:
        saved = _save(form, kind, entry)
    except EditConflictError as conflict:
        assert entry is not None
        return _conflict(form, kind, entry, conflict)
    except DocumentProblemsError as error:
        return _page(form, kind, entry, status=400, problems=error.problems)
    except IntegrityError:
        if entry is None:
            message = (
                f"Another {KINDS[kind].lower()} with the same title was saved at the same moment. Send the form again."
            )
            return _page(form, kind, entry, status=409, message=message)
        return _conflict(form, kind, entry, _race(entry, form))
    if entry is None:
        documents = " Add its documents next, from its page." if kind == EntryKind.PAPER else ""
        flash(f'"{saved.title}" was created.{documents}', "success")
    else:
        flash(f'"{saved.title}" was saved.', "success")
    return redirect(saved.path, code=303)


def edit_fields(entry: Entry) -> Page | Response:
    """The structured editor for staff: show the entry's fields, or preview or save what was posted."""
    groups = pages.tag_groups() if entry.kind == EntryKind.LESSON else []
    if request.method == "GET":
        restored = restored_fields()
        if restored:
            return _page(staff_form(entry.kind, groups, entry=entry, formdata=restored), entry.kind, entry)
        revision, document = current_document(entry)
        form = staff_form(entry.kind, groups, data=form_data(document, revision, groups), entry=entry)
        return _page(form, entry.kind, entry)
    return _handle_post(staff_form(entry.kind, groups, entry=entry), entry.kind, entry)


def new_entry(kind: str) -> Page | Response:
    """Write a new review or meeting paper: show the empty form, or preview or save what was posted."""
    if request.method == "GET":
        restored = restored_fields()
        return _page(staff_form(kind, [], data=None if restored else {}, formdata=restored), kind, None)
    return _handle_post(staff_form(kind, []), kind, None)
