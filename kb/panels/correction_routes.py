"""The "Correct this finding" page: the review's panel and staff correct a published finding with a note.

Everyone else, and every finding not yet published, gets 404. The form keeps what was
typed through an ended session or a stale form token (`kb.drafts.keeping`), offers a
preview, and saves through `kb.panels.corrections.correct_finding`.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.drafts.keeping import keeps_typed_text, restored_fields
from kb.entries.models import Review
from kb.errors import unit_of_work
from kb.extensions import csrf
from kb.panels import pages
from kb.panels.corrections import correct_finding
from kb.panels.forms import CorrectionForm
from kb.panels.models import FINDING_STATUSES, Finding
from kb.panels.routes import FINDING, Page, _working_finding, blueprint
from kb.panels.service import FindingError, clean
from kb.previews import preview_parts, wants_preview
from kb.states import FindingStatus

RACE_MESSAGE = "Someone else corrected this finding at the same moment. Your text is below; check it, then save again."


def _page(form: CorrectionForm, review: Review, finding: Finding, *, status: int = 200, **extra: Any) -> Page:
    context = {"message": None, "preview": None, **extra}
    page = render_template(
        "panels/correct.html", form=form, review=review, finding=finding, finding_statuses=FINDING_STATUSES, **context
    )
    return page, status


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
            correct_finding(finding, text, form.note.data or "", actor=current_user)
    except FindingError as error:
        form.body.errors = [*form.body.errors, str(error)]
        return _page(form, review, finding, status=400)
    except IntegrityError:
        return _page(form, review, finding, status=409, message=RACE_MESSAGE)
    flash(f"Finding {finding.number} was corrected; the correction is shown on its page with your note.", "success")
    return redirect(url_for(".finding", slug=slug, number=number), code=303)
