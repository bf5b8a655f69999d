"""Writing, submitting, editing and moderating entries in the browser.

The long forms (the lesson form, the staff editors in `staff_views` and the file editor)
keep what was typed through an ended session or a stale form token (`kb.drafts.keeping`):
the post is kept as a draft and comes back in the form after signing in, instead of an
error page. Bad input answers 400, an edit from an old revision 409, a hidden entry 404
and an action the role may not take 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from kb.content.attachments import document_with_attachments
from kb.contributions import pages, staff_views
from kb.contributions.forms import EXPIRED_MESSAGE, DocumentForm, LessonForm, over_limit, token_expired
from kb.contributions.service import (
    ContributionError,
    DocumentProblemsError,
    EditConflictError,
    FieldError,
    create_lesson,
    preview_lesson,
    save_document,
    submit_entry,
    update_lesson,
)
from kb.documents.queries import current_documents
from kb.drafts.keeping import keeps_typed_text, restored_fields
from kb.entries import queries
from kb.entries.models import Entry, Lesson, Review
from kb.entries.queries import revision_of
from kb.entries.service import current_revision
from kb.entries.vocabulary import KIND_PLURALS, STATUSES, VISIBILITIES
from kb.errors import unit_of_work
from kb.extensions import csrf, db
from kb.moderation import lessons as moderation
from kb.permissions import PermissionDeniedError, can, current_viewer, is_author
from kb.states import EntryKind, EntryStatus, Visibility
from kb.users.routes import safe_next

blueprint = Blueprint("contributions", __name__)
PLURALS = "any(lessons, reviews, papers)"
DECISIONS = ("publish", "return", "reject")
Page = tuple[str, int]


def _load(plural: str, slug: str) -> Entry:
    """The entry if the viewer may see it and the URL names its kind; else 404."""
    entry = queries.visible_entry(current_viewer(), slug)
    if entry is None or KIND_PLURALS[entry.kind] != plural:
        abort(404)
    return entry


def _tell_ignored() -> None:
    ignored = pages.ignored_fields()
    if ignored:
        flash(
            f"Only moderators can set {', '.join(ignored)}, and not with this form: what was sent for "
            f"{'it' if len(ignored) == 1 else 'them'} was ignored.",
            "info",
        )


# --- Writing and editing a lesson -----------------------------------------------------------


def _lesson_page(
    form: LessonForm, groups: pages.TagGroups | None, *, entry: Entry | None = None, status: int = 200, **extra: Any
) -> Page:
    return render_template("contributions/lesson_form.html", form=form, groups=groups, entry=entry, **extra), status


def _handle_lesson_post(form: LessonForm, groups: pages.TagGroups | None, entry: Lesson | None) -> Page | Response:
    """Preview, save or submit the posted lesson form (new when `entry` is None)."""
    action = request.form.get("action", "save")
    valid = form.validate()
    if token_expired(form):
        return _lesson_page(form, groups, entry=entry, status=400, message=EXPIRED_MESSAGE)
    fields = pages.lesson_fields(form)
    if action == "preview":
        if over_limit(form):
            # The field's own error names the limit; nothing is rendered from an over-long text.
            return _lesson_page(form, groups, entry=entry, status=400)
        preview = preview_lesson(fields, actor=current_user, entry=entry)
        return _lesson_page(form, groups, entry=entry, status=200 if valid else 400, preview=preview)
    if not valid:
        return _lesson_page(form, groups, entry=entry, status=400)
    submit = action == "submit"
    try:
        with unit_of_work():
            if entry is None:
                entry = create_lesson(fields, actor=current_user, submit=submit)
            else:
                update_lesson(
                    entry,
                    fields,
                    actor=current_user,
                    base_number=pages.base_number(form.base_revision.data),
                    message=(form.message.data or "").strip(),
                    submit=submit,
                )
    except EditConflictError as conflict:
        return _conflict(form, groups, entry, conflict)
    except FieldError as error:
        form[error.field].errors.append(str(error))
        return _lesson_page(form, groups, entry=entry, status=400)
    except PermissionDeniedError:
        status = STATUSES[entry.status].lower() if entry else ""
        message = f"You can no longer change this lesson: it is {status}. Your text is below, so you can copy it."
        return _lesson_page(form, groups, entry=entry, status=403, message=message)
    except ContributionError as error:
        return _lesson_page(form, groups, entry=entry, status=400, message=str(error))
    except IntegrityError:
        if entry is None:
            message = "Another lesson with the same title was saved at the same moment. Send the form again."
            return _lesson_page(form, groups, status=409, message=message)
        return _conflict(form, groups, entry, _race(entry, form))
    _tell_ignored()
    flash(_saved_message(entry, submit), "success")
    return redirect(entry.path, code=303)


def _race(entry: Entry, form: FlaskForm) -> EditConflictError:
    """Two saves of the same revision at once: the later one is shown as a conflict."""
    current = current_revision(entry)
    assert current is not None
    number = pages.base_number(form.base_revision.data)
    return EditConflictError(revision_of(entry, number) if number else None, current)


def _conflict(
    form: FlaskForm, groups: pages.TagGroups | None, entry: Entry | None, conflict: EditConflictError
) -> Page:
    """Show the other change as a diff, keep the editor's text, and rebase the form on it."""
    form.base_revision.data = str(conflict.current.number)
    message = (
        f"{conflict.current.author_name} saved a newer version (revision {conflict.current.number}) "
        "while you were editing. Your text has not been saved and is still below. Compare it with "
        "their change, then save again to replace their version with yours."
    )
    view = pages.conflict_view(conflict)
    if isinstance(form, DocumentForm):
        return _document_page(form, entry, status=409, message=message, conflict=view)
    return _lesson_page(form, groups, entry=entry, status=409, message=message, conflict=view)


def _saved_message(entry: Entry, submitted: bool) -> str:
    if submitted:
        return f'"{entry.title}" was sent to the moderators. You will get an email when they decide.'
    return f'"{entry.title}" was saved. Its status: {STATUSES[entry.status].lower()}.'


@blueprint.route("/lessons/new", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def new_lesson() -> Page | Response:
    """Write a new lesson: preview it, save it as a draft, or submit it for publication."""
    if not can(current_viewer(), "entry.create"):
        abort(403)
    groups = pages.tag_groups()
    if request.method == "GET":
        return _lesson_page(pages.lesson_form(groups, formdata=restored_fields()), groups)
    form = pages.lesson_form(groups)
    return _handle_lesson_post(form, groups, None)


def _new_entry(kind: str) -> Page | Response:
    """Staff write a new review or meeting paper by its fields; for anyone else, as for every staff page, 404."""
    if not can(current_viewer(), "entry.create-any-kind"):
        abort(404)
    return staff_views.new_entry(kind)


# Static addresses, so that they win over the entry pages at /<plural>/<slug>.
@blueprint.route("/reviews/new", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def new_review() -> Page | Response:
    """Staff write a new review by its fields."""
    return _new_entry(EntryKind.REVIEW)


@blueprint.route("/papers/new", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def new_paper() -> Page | Response:
    """Staff write a new meeting paper by its fields."""
    return _new_entry(EntryKind.PAPER)


@blueprint.route(f"/<{PLURALS}:plural>/<slug>/edit", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def edit(plural: str, slug: str) -> Page | Response:
    """Edit an entry: its author with the lesson form, moderators and admins by its fields."""
    entry = _load(plural, slug)
    viewer = current_viewer()
    if can(viewer, "entry.set-restricted-fields", entry):
        return staff_views.edit_fields(entry)
    own_lesson = isinstance(entry, Lesson) and is_author(viewer, entry)
    # An author whose lesson left draft while they typed still gets their text back (below).
    if not isinstance(entry, Lesson) or not (
        can(viewer, "entry.edit", entry) or (own_lesson and request.method == "POST")
    ):
        abort(403)
    groups = pages.tag_groups()
    if request.method == "GET":
        restored = restored_fields()
        data = None if restored else pages.lesson_form_data(entry, current_revision(entry))
        form = pages.lesson_form(groups, data, formdata=restored, stored_region=entry.region)
        return _lesson_page(form, groups, entry=entry)
    return _handle_lesson_post(pages.lesson_form(groups, stored_region=entry.region), groups, entry)


# --- The document editor for moderators and admins --------------------------------------------


@blueprint.route(f"/<{PLURALS}:plural>/<slug>/edit-file", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def edit_file(plural: str, slug: str) -> Page | Response:
    """Edit an entry as one file, front matter and Markdown: moderators and admins only."""
    entry = _load(plural, slug)
    if not can(current_viewer(), "entry.set-restricted-fields", entry):
        abort(403)
    return _edit_document(entry)


def _document_page(form: DocumentForm, entry: Entry | None, *, status: int = 200, **extra: Any) -> Page:
    return render_template("contributions/document_form.html", form=form, entry=entry, **extra), status


def _edit_document(entry: Entry) -> Page | Response:
    if request.method == "GET":
        restored = restored_fields()
        if restored:
            return _document_page(DocumentForm(formdata=restored), entry)
        revision = current_revision(entry)
        # The list of files is shown as the entry's documents are now, which a save must keep.
        text = document_with_attachments(revision.document, entry, current_documents(entry)) if revision else ""
        data = {"text": text, "base_revision": revision.number if revision else ""}
        return _document_page(DocumentForm(data=data), entry)
    form = DocumentForm()
    valid = form.validate()
    if token_expired(form):
        return _document_page(form, entry, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _document_page(form, entry, status=400)
    try:
        with unit_of_work():
            save_document(
                entry,
                form.text.data or "",
                actor=current_user,
                base_number=pages.base_number(form.base_revision.data),
                message=(form.message.data or "").strip(),
            )
    except EditConflictError as conflict:
        return _conflict(form, None, entry, conflict)
    except DocumentProblemsError as error:
        return _document_page(form, entry, status=400, problems=error.problems)
    except IntegrityError:
        return _conflict(form, None, entry, _race(entry, form))
    flash(f'"{entry.title}" was saved.', "success")
    return redirect(entry.path, code=303)


# --- Submitting, and the author's own list ------------------------------------------------------


@blueprint.post("/lessons/<slug>/submit")
@login_required
def submit(slug: str) -> Response:
    """Send the author's draft or returned lesson to the moderators, unchanged."""
    entry = _load("lessons", slug)
    back = safe_next(request.form.get("back")) or url_for(".mine")
    if entry.status == EntryStatus.SUBMITTED and is_author(current_viewer(), entry):
        flash(f'"{entry.title}" is already waiting for the moderators.', "info")
        return redirect(back, code=303)
    with unit_of_work():
        submit_entry(entry, actor=current_user)
    flash(_saved_message(entry, True), "success")
    return redirect(back, code=303)


@blueprint.route("/account/contributions")
@login_required
def mine() -> str:
    """The signed-in member's lessons, their status, and the reason when one was given."""
    return render_template("contributions/mine.html", entries=moderation.contributions_of(current_user))


# --- Moderation -----------------------------------------------------------------------------


def _require_moderator() -> None:
    if not can(current_viewer(), "entry.moderate"):
        abort(404)


def _queue_page(status: int = 200, failed: tuple[Entry, pages.ModerationForms, FlaskForm] | None = None) -> Page:
    reviews = pages.review_choices()
    entries = moderation.submitted_lessons()
    forms_by_entry = {entry.id: pages.moderation_forms(entry, reviews=reviews) for entry in entries}
    if failed is not None:
        forms_by_entry[failed[0].id] = failed[1]
    return render_template(
        "contributions/queue.html",
        entries=entries,
        forms_by_entry=forms_by_entry,
        failed_form=failed[2] if failed else None,
        status_code=status,
    ), status


@blueprint.route("/moderation")
def queue() -> Page:
    """Submitted lessons waiting for a moderator, the longest-waiting first."""
    _require_moderator()
    return _queue_page()


def _decide(entry: Entry, decision: str, forms: pages.ModerationForms) -> str:
    """Take one decision; returns what to tell the moderator. Raises ContributionError."""
    if decision == "publish":
        visibility = forms.publish.visibility.data or "members"
        review = None
        if visibility == Visibility.PANEL:
            review = db.session.scalar(db.select(Review).where(Review.slug == forms.publish.review.data))
        moderation.publish_entry(entry, actor=current_user, visibility=visibility, review=review)
        return f'"{entry.title}" is published for {VISIBILITIES[visibility].lower()}. Its author was told.'
    reason = forms.return_.reason.data if decision == "return" else forms.reject.reason.data
    if decision == "return":
        moderation.return_entry(entry, actor=current_user, reason=reason or "")
        return f'"{entry.title}" was returned to its author with your reason.'
    moderation.reject_entry(entry, actor=current_user, reason=reason or "")
    return f'"{entry.title}" was rejected. Its author was told why.'


@blueprint.post("/moderation/<slug>/<any(publish, return, reject):decision>")
def decide(slug: str, decision: str) -> Page | Response:
    """Publish a submitted lesson for an audience, return it to its author, or reject it."""
    _require_moderator()
    entry = queries.visible_entry(current_viewer(), slug)
    if entry is None:
        abort(404)
    forms = pages.moderation_forms(entry, posted=decision)
    form: FlaskForm = {"publish": forms.publish, "return": forms.return_, "reject": forms.reject}[decision]
    if not form.validate():
        return _queue_page(400, (entry, forms, form))
    try:
        with unit_of_work():
            message = _decide(entry, decision, forms)
    except ContributionError as error:
        flash(str(error), "error")
        return redirect(url_for(".queue"), code=303)
    flash(message, "success")
    return redirect(safe_next(request.form.get("back")) or url_for(".queue"), code=303)


@blueprint.app_template_global("moderation_forms")
def moderation_forms_global(entry: Entry) -> pages.ModerationForms:
    """The moderation forms for an entry page; the template asks `can()` before showing them."""
    return pages.moderation_forms(entry)
