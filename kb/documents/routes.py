"""Pages for an entry's documents: attach, replace and remove a file, download it, read its text, list its history.

Every page loads the entry through the visibility rule first and the document only among
that entry's own, so a hidden entry's files, a document of another entry and one that never
existed all answer the same 404. Attaching, replacing and removing are for whoever may edit
the entry (`entry.edit`: staff, and a lesson's author while it is a draft); anyone who may
read the entry reads its documents, earlier and removed versions included, as they read
its revisions.

Uploads may be larger than the app's usual body limit: the upload views raise it to
`DOCUMENT_MAX_BYTES` (and a little for the form around the file) before the request's
body is read, and a larger body is answered with the form and a message, not a bare 413.
Those two views check the form's CSRF token themselves (in `DocumentForm.validate`), so
a body too large to read still gets its page. They check and read the file
(`prepare_document`) after ending the request's reads and before their transaction opens,
so no database connection waits in a transaction while a slow file is read.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.documents import pages, queries, storage
from kb.documents.errors import DocumentRefusedError
from kb.documents.forms import DocumentForm
from kb.documents.models import Document
from kb.documents.service import attach_document, prepare_document, remove_document
from kb.entries.models import Entry
from kb.entries.queries import visible_entry
from kb.entries.vocabulary import KIND_PLURALS
from kb.errors import NotFoundError, unit_of_work
from kb.extensions import csrf, db
from kb.permissions import can, current_viewer

blueprint = Blueprint("documents", __name__)
PLURALS = "any(lessons, reviews, papers)"
BASE = f"/<{PLURALS}:plural>/<slug>/documents"
UPLOAD_ENDPOINTS = frozenset({"documents.new", "documents.replace"})
FORM_ALLOWANCE = 64 * 1024
"""Room in an upload's body for the form around the file: the boundaries, the token and the title."""
Page = tuple[str, int]


def _entry(plural: str, slug: str) -> Entry:
    """The entry if the viewer may see it and the address names its kind; else 404."""
    entry = visible_entry(current_viewer(), slug)
    if entry is None or KIND_PLURALS[entry.kind] != plural:
        abort(404)
    return entry


def _document(entry: Entry, document_id: int, *, current: bool = False) -> Document:
    """The entry's own document version with this id (only a current one when `current`); else 404."""
    try:
        document = queries.document_of_entry(entry, document_id)
    except NotFoundError:
        abort(404)
    if current and not document.is_current:
        abort(404)
    return document


def _require_editor(entry: Entry) -> None:
    """403 unless the viewer may change the entry's files."""
    if not can(current_viewer(), "entry.edit", entry):
        abort(403)


def max_upload_bytes() -> int:
    """The largest upload body accepted: the largest document, and room for the form around it."""
    return int(current_app.config["DOCUMENT_MAX_BYTES"]) + FORM_ALLOWANCE


def _max_mb() -> str:
    return f"{current_app.config['DOCUMENT_MAX_BYTES'] / (1024 * 1024):.1f}".removesuffix(".0")


@blueprint.url_value_preprocessor
def _allow_large_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Let an upload's body be as large as a document may be, before any hook reads it.

    A body announced as larger is never read: it is replaced by an empty one, so the
    hooks (the character doorway, the session) run as for any request and the view answers
    with the form and the limit rather than a bare 413.
    """
    if endpoint not in UPLOAD_ENDPOINTS or request.method != "POST":
        return
    request.max_content_length = max_upload_bytes()
    if (request.content_length or 0) > request.max_content_length:
        g.upload_too_large = True
        request.environ["wsgi.input"] = io.BytesIO()
        request.environ["CONTENT_LENGTH"] = "0"


def _form_page(
    entry: Entry, form: DocumentForm, *, replacing: Document | None, status: int = 200, **extra: Any
) -> Page:
    return render_template(
        "documents/form.html", entry=entry, form=form, replacing=replacing, max_mb=_max_mb(), **extra
    ), status


def _upload(entry: Entry, replacing: Document | None) -> Page | Response:
    """Store the posted file on `entry` (as a new version of `replacing` if given), or show the form again."""
    form = DocumentForm()
    if request.method == "GET":
        if replacing is not None:
            form.title.data = replacing.title
        return _form_page(entry, form, replacing=replacing)
    if g.get("upload_too_large"):
        form = DocumentForm(formdata=None)
        form.file.errors = [f"The file is larger than {_max_mb()} MB, the largest kb takes. Choose a smaller file."]
        return _form_page(entry, form, replacing=replacing, status=413)
    valid = form.validate()
    if token_expired(form):
        return _form_page(entry, form, replacing=replacing, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _form_page(entry, form, replacing=replacing, status=400)
    upload = form.file.data
    # An empty title keeps the replaced file's, or lets the service use the file's name.
    title = form.title.data or (replacing.title if replacing is not None else "")
    data, filename = upload.read(), upload.filename or ""
    # Only reads so far: end their transaction (the entry and the file reload when next used) before the slow part.
    db.session.commit()
    try:
        prepared = prepare_document(data, filename)
        with unit_of_work():
            document = attach_document(
                entry, data, filename=filename, title=title, actor=current_user, replaces=replacing, prepared=prepared
            )
    except DocumentRefusedError as refused:
        form.file.errors = [str(refused)]
        return _form_page(entry, form, replacing=replacing, status=400)
    done = "replaced" if replacing is not None else "attached"
    flash(f'"{document.title}" was {done}.', "success")
    return redirect(entry.path + "#documents", code=303)


@blueprint.route(f"{BASE}/new", methods=["GET", "POST"])
@csrf.exempt  # The form checks its own token: an upload too large to read has none, and still gets the form.
@login_required
def new(plural: str, slug: str) -> Page | Response:
    """Attach a file to an entry: the form, and storing what it sends."""
    entry = _entry(plural, slug)
    _require_editor(entry)
    return _upload(entry, None)


@blueprint.route(f"{BASE}/<int:document_id>/replace", methods=["GET", "POST"])
@csrf.exempt  # As `new`: the form checks its own token.
@login_required
def replace(plural: str, slug: str, document_id: int) -> Page | Response:
    """Replace one of an entry's files with a new version; the earlier one stays in its history."""
    entry = _entry(plural, slug)
    document = _document(entry, document_id, current=True)
    _require_editor(entry)
    return _upload(entry, document)


@blueprint.post(f"{BASE}/<int:document_id>/remove")
@login_required
def remove(plural: str, slug: str, document_id: int) -> Response:
    """Take a file off an entry; it stays in the entry's history."""
    entry = _entry(plural, slug)
    document = _document(entry, document_id, current=True)
    _require_editor(entry)
    with unit_of_work():
        remove_document(document, actor=current_user)
    flash(f'"{document.title}" was removed. It is still listed in the history of this entry\'s documents.', "success")
    return redirect(entry.path + "#documents", code=303)


@blueprint.get(BASE)
def index(plural: str, slug: str) -> str:
    """An entry's documents: those attached now, then earlier versions and removed files."""
    entry = _entry(plural, slug)
    return render_template(
        "documents/index.html",
        entry=entry,
        current=queries.current_documents(entry),
        past=pages.past_documents(entry),
    )


@blueprint.get(f"{BASE}/<int:document_id>")
def text(plural: str, slug: str, document_id: int) -> str:
    """A document's text, one section per page (`#page-N`), or why there is none."""
    entry = _entry(plural, slug)
    document = _document(entry, document_id)
    return render_template(
        "documents/text.html",
        entry=entry,
        document=document,
        pages=[(page.number, pages.paragraphs(page.text)) for page in document.pages],
        versions=pages.version_view(document),
    )


@blueprint.get(f"{BASE}/<int:document_id>/download")
def download(plural: str, slug: str, document_id: int) -> Response:
    """The file itself: PDFs and images shown with their true type, every other kind saved as an attachment."""
    entry = _entry(plural, slug)
    document = _document(entry, document_id)
    try:
        path = storage.path_of(document.stored_name)
        if not path.is_file():
            raise FileNotFoundError(document.stored_name)
    except (ValueError, FileNotFoundError):
        current_app.logger.error("The bytes of document %s are missing", document.id)
        abort(404)
    response = send_file(
        path,
        mimetype=document.media_type,
        as_attachment=not pages.shown_inline(document),
        download_name=document.filename,
        etag=document.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blueprint.app_template_global("documents_link")
def documents_link(entry: Entry, endpoint: str = "index", **values: Any) -> str:
    """The address of an entry's documents page, or of one of its document views (`endpoint`)."""
    return url_for(f"documents.{endpoint}", plural=KIND_PLURALS[entry.kind], slug=entry.slug, **values)


@blueprint.app_template_filter("file_type")
def file_type(document: Document) -> str:
    """What people call a document's kind of file, e.g. "PDF"."""
    return pages.type_label(document)


@blueprint.app_template_filter("file_size")
def file_size(size: int) -> str:
    """A file size as a reader says it, e.g. "2.5 MB"."""
    return pages.size_label(size)
