"""The "Correct this finding" page: the review's panel and staff correct a published finding with a note.

Everyone else, and every finding not yet published, gets 404. The form keeps what was
typed through an ended session or a stale form token (`kb.drafts.keeping`), offers a
preview, and saves through `kb.panels.corrections.correct_finding`. It carries the
revision it was opened on (`base_revision`); a save after someone else corrected the
finding is refused with 409: the form again with the typed text and note, the finding as
it now reads, and who changed it when. Saving again from that page applies the correction
to the current text.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.dates import london_time
from kb.drafts.keeping import keeps_typed_text, restored_fields
from kb.entries.models import Review
from kb.errors import unit_of_work
from kb.extensions import csrf, db
from kb.panels import pages
from kb.panels.corrections import correct_finding
from kb.panels.forms import CorrectionForm
from kb.panels.models import FINDING_STATUSES, Finding, FindingRevision
from kb.panels.routes import FINDING, Page, _working_finding, blueprint
from kb.panels.service import FindingConflictError, FindingError, clean, current_revision
from kb.previews import preview_parts, wants_preview
from kb.states import FindingStatus


def _page(form: CorrectionForm, review: Review, finding: Finding, *, status: int = 200, **extra: Any) -> Page:
    context = {"message": None, "preview": None, "current": None, **extra}
    page = render_template(
        "panels/correct.html", form=form, review=review, finding=finding, finding_statuses=FINDING_STATUSES, **context
    )
    return page, status


def stale_message(finding: Finding, current: FindingRevision) -> str:
    """What a corrector is told when the finding changed after they opened the page: by whom, and when."""
    who = current.author.display_name if current.author is not None else "someone"
    return (
        f"Finding {finding.number} was changed by {who} at {london_time(current.created_at)} since you opened "
        "this page. It now reads as shown below; your text and note are in the form. Check them against it, "
        "then save again."
    )


def _stale(form: CorrectionForm, review: Review, finding: Finding, current: FindingRevision | None) -> Page:
    """The form again (409) with the typed text and note, the finding as it now reads, and a base to save on."""
    if current is None:
        return _page(form, review, finding, status=409, message=f"Finding {finding.number} was changed.")
    form.base_revision.data = str(current.number)
    return _page(form, review, finding, status=409, message=stale_message(finding, current), current=current)


@blueprint.route(f"{FINDING}/correct", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def correct(slug: str, number: int) -> Page | Response:
    """Correct a published finding: its text as it should read, and a note saying what was corrected and why."""
    review, finding = _working_finding(slug, number)
    if finding.status != FindingStatus.PUBLISHED:
        abort(404)
    if request.method == "GET":
        restored = restored_fields()
        data = pages.form_data(finding)
        form = CorrectionForm(formdata=restored) if restored else CorrectionForm(data=data)
        return _page(form, review, finding)
    form = CorrectionForm()
    valid = form.validate()
    if token_expired(form):
        return _page(form, review, finding, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _page(form, review, finding, status=400)
    if wants_preview():
        return _page(form, review, finding, preview=preview_parts(form.body, form.recommendations, form.note))
    text = clean(form.title.data, form.body.data, form.recommendations.data)
    try:
        with unit_of_work():
            correct_finding(
                finding,
                text,
                form.note.data or "",
                actor=current_user,
                base_number=pages.base_number(form.base_revision.data),
            )
    except FindingConflictError as conflict:
        return _stale(form, review, finding, conflict.current)
    except FindingError as error:
        form.body.errors = [*form.body.errors, str(error)]
        return _page(form, review, finding, status=400)
    except IntegrityError:  # Two corrections of the same revision at once: this one came second.
        db.session.refresh(finding)
        return _stale(form, review, finding, current_revision(finding))
    flash(f"Finding {finding.number} was corrected; the correction is shown on its page with your note.", "success")
    return redirect(url_for(".finding", slug=slug, number=number), code=303)
