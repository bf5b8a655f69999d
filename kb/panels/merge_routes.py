"""The merge page of a finding: settling a save that came after someone else's, clash by clash.

A save based on an old revision (`routes.edit_finding`) answers with this page (`merge_page`)
instead of overwriting. Posting its form rebuilds the same clashes from the typed text and
the two revision numbers it carries, applies the choices and saves on top of their revision.
A refused save shows the page again with every choice and edited text as posted; a save
that comes after yet another one merges the settled text with that one. The page is for
the review's panel and staff; everyone else gets 404. What is typed is kept as a draft
(`kb.drafts.keeping`) across an ended session or a stale form token.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.drafts import service as drafts
from kb.drafts.keeping import keeps_typed_text, restored_fields
from kb.drafts.models import SAVED_HERE
from kb.entries.models import Review
from kb.errors import unit_of_work
from kb.extensions import csrf, db
from kb.panels import merge_view, pages, queries, service
from kb.panels.forms import FindingForm, MergeForm
from kb.panels.merge import Choice, PieceKind
from kb.panels.merge_view import MergeView
from kb.panels.models import FINDING_STATUSES, Finding
from kb.panels.routes import FINDING, Page, _working_finding, blueprint
from kb.panels.service import FindingConflictError, FindingError, FindingText

AGAIN = (
    "Someone saved this finding again while you were choosing. Your choices are in your version below; "
    "check the new clashes, then save."
)


def merge_page(view: MergeView, review: Review, finding: Finding, *, status: int) -> Page:
    """The merge page for `view`, answered with `status` (409 for a new clash, 400 for a refused save)."""
    page = render_template(
        "panels/merge.html",
        view=view,
        review=review,
        finding=finding,
        choice_labels=merge_view.CHOICE_LABELS,
        Choice=Choice,
        PieceKind=PieceKind,
        finding_statuses=FINDING_STATUSES,
        merge_url=url_for("panels.merge_finding", slug=review.slug, number=finding.number),
    )
    return page, status


def conflict_page(review: Review, finding: Finding, form: FindingForm, conflict: FindingConflictError) -> Page:
    """The merge page for an edit that came too late; the typed text is also kept as a draft of the editor."""
    yours = service.clean(form.title.data, form.body.data, form.recommendations.data)
    try:
        fields = drafts.typed_fields(MultiDict(request.form))
    except drafts.DraftTooLargeError:
        fields = {}  # The text is still on the merge page, in its form.
    if drafts.has_text(fields):
        with unit_of_work():
            drafts.keep_draft(request.path, fields, owner_id=current_user.id, address=get_remote_address())
        session[SAVED_HERE] = True  # This browser is offered the draft back on the editor.
    view = merge_view.build(conflict.current, conflict.base, yours, message=form.message.data or "")
    return merge_page(view, review, finding, status=409)


def race(finding: Finding, base_number: int | None) -> FindingConflictError:
    """Two saves of the same revision at once: the later one is shown the merge with the one that won."""
    db.session.refresh(finding)
    current = service.current_revision(finding)
    assert current is not None
    return FindingConflictError(finding, queries.revision_of(finding, base_number), current)


def _view(finding: Finding, form: MergeForm, posted: MultiDict[str, str]) -> MergeView:
    """The merge the form describes, with its choices; 404 when it names no revision of the finding."""
    theirs = queries.revision_of(finding, pages.base_number(form.their_revision.data))
    if theirs is None:
        abort(404)
    base = queries.revision_of(finding, pages.base_number(form.base_revision.data))
    yours = service.clean(form.title.data, form.body.data, form.recommendations.data)
    view = merge_view.build(theirs, base, yours, message=form.message.data or "", form=posted)
    view.errors.extend((field.id, error) for field in form if field.name != "csrf_token" for error in field.errors)
    return view


@blueprint.route(f"{FINDING}/merge", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def merge_finding(slug: str, number: int) -> Page | Response:
    """Settle the clashes between a late save and the one before it; GET brings back a kept draft of the page."""
    review, finding = _working_finding(slug, number)
    edit_url = url_for(".edit_finding", slug=slug, number=number)
    if request.method == "GET":
        restored = restored_fields()
        if restored is None:
            return redirect(edit_url)
        return merge_page(_view(finding, MergeForm(formdata=restored), restored), review, finding, status=200)
    form = MergeForm()
    form.validate()
    expired = token_expired(form)
    view = _view(finding, form, request.form)
    if expired:
        view.errors.append(("merge-form", EXPIRED_MESSAGE))
    settled = merge_view.resolved(view) if not view.errors else None
    if settled is None:
        return merge_page(view, review, finding, status=400)
    text = service.clean(settled.title, settled.body, settled.recommendations)
    try:
        with unit_of_work():
            revision = service.edit_finding(
                finding, text, actor=current_user, base_number=view.theirs.number, message=view.message
            )
            # Settled: the text kept from the editor when the clash was found is in the saved revision.
            drafts.discard_drafts(current_user.id, {edit_url})
    except FindingConflictError as conflict:
        return _again(review, finding, conflict, text, view.message)
    except FindingError as error:
        view.errors.append(("merge-form", str(error)))
        return merge_page(view, review, finding, status=400)
    except IntegrityError:
        return _again(review, finding, race(finding, view.theirs.number), text, view.message)
    if revision is None:
        flash(f"The merge is the same as revision {finding.revision_number}, so nothing was saved again.", "info")
    else:
        saved = f"Finding {finding.number} was saved as revision {finding.revision_number}, with both sets of changes."
        flash(saved, "success")
    return redirect(url_for(".finding", slug=slug, number=number), code=303)


def _again(review: Review, finding: Finding, conflict: FindingConflictError, text: FindingText, message: str) -> Page:
    """A merge saved after yet another save: merge the settled text with the newest revision."""
    view = merge_view.build(conflict.current, conflict.base, text, message=message)
    view.notice = AGAIN
    return merge_page(view, review, finding, status=409)
