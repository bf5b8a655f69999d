"""A review's workspace: its panel, papers and evidence, and its findings drafted together.

The workspace and every drafting page are for the review's panel and staff
(`review.work`); everyone else gets 404, as for something that does not exist. A
published finding's own page is read by whoever may read the review. The two finding
forms keep what was typed through an ended session or a stale form token as a draft
that comes back in the form (`kb.drafts.keeping`). A save based on an old revision never
overwrites: it answers 409 with the merge page (`kb.panels.merge_routes`), where each clash
is settled by a choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.drafts.keeping import keeps_typed_text, restored_fields
from kb.entries.diff import diff_texts
from kb.entries.models import Review
from kb.errors import unit_of_work
from kb.extensions import csrf
from kb.pages import int_arg
from kb.panels import hub, pages, queries, service
from kb.panels.discussion_pages import FindingDiscussion, finding_discussion
from kb.panels.editor import preview_with_notes
from kb.panels.forms import FindingForm
from kb.panels.models import FINDING_STATUSES, Finding
from kb.panels.service import FindingConflictError, FindingError, FindingText
from kb.permissions import can, current_viewer
from kb.previews import preview_parts, wants_preview
from kb.states import FindingStatus

blueprint = Blueprint("panels", __name__)
FINDING = "/reviews/<slug>/findings/<int:number>"
Page = tuple[str, int]


def _render(template: str, **context: Any) -> str:
    """Render one of the panel pages, which all show findings' statuses."""
    return render_template(template, finding_statuses=FINDING_STATUSES, **context)


def _workspace_review(slug: str) -> Review:
    """The review if the viewer works in its workspace; else 404."""
    review = queries.workspace_review(current_viewer(), slug)
    if review is None:
        abort(404)
    return review


def _readable_finding(slug: str, number: int) -> tuple[Review, Finding]:
    """The review and its finding if the viewer may read the finding; else 404."""
    viewer = current_viewer()
    review = queries.visible_review(viewer, slug)
    finding = queries.visible_finding(viewer, review, number) if review is not None else None
    if review is None or finding is None:
        abort(404)
    return review, finding


def _working_finding(slug: str, number: int) -> tuple[Review, Finding]:
    """The review and its finding if the viewer works in the review's workspace; else 404."""
    review = _workspace_review(slug)
    finding = queries.visible_finding(current_viewer(), review, number)
    if finding is None:
        abort(404)
    return review, finding


def _finding_url(finding: Finding) -> str:
    return url_for(".finding", slug=finding.review.slug, number=finding.number)


@blueprint.get("/reviews/<slug>/workspace")
def workspace(slug: str) -> str:
    """The panel's hub: findings and who holds each, the panel, material, consultations, actions and activity."""
    review = _workspace_review(slug)
    viewer = current_viewer()
    rows = pages.workspace_findings(viewer, review)
    return _render(
        "panels/workspace.html",
        review=review,
        hub=hub.workspace_hub(viewer, review),
        rows=rows,
        publishable=pages.publishable(rows),
    )


# --- Writing and editing -------------------------------------------------------------------------


def _form_page(form: FindingForm, review: Review, finding: Finding | None, *, status: int = 200, **extra: Any) -> Page:
    return _render("panels/finding_form.html", form=form, review=review, finding=finding, **extra), status


def _typed(form: FindingForm) -> FindingText:
    return service.clean(form.title.data, form.body.data, form.recommendations.data)


@blueprint.route("/reviews/<slug>/findings/new", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def new_finding(slug: str) -> Page | Response:
    """Draft a new finding of the review."""
    review = _workspace_review(slug)
    if request.method == "GET":
        return _form_page(FindingForm(formdata=restored_fields()), review, None)
    form = FindingForm()
    valid = form.validate()
    if token_expired(form):
        return _form_page(form, review, None, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _form_page(form, review, None, status=400)
    if wants_preview():
        return _form_page(form, review, None, preview=preview_parts(form.body, form.recommendations))
    try:
        with unit_of_work():
            finding = service.create_finding(review, _typed(form), actor=current_user, message=form.message.data or "")
    except FindingError as error:
        return _form_page(form, review, None, status=400, message=str(error))
    except IntegrityError:
        message = "Another finding was numbered at the same moment. Your text is below; send the form again."
        return _form_page(form, review, None, status=409, message=message)
    flash(f"Finding {finding.number} was saved as a draft.", "success")
    return redirect(_finding_url(finding), code=303)


def _saved_message(finding: Finding, was: str, proposed: bool) -> str:
    message = f"Finding {finding.number} was saved as revision {finding.revision_number}."
    if was == "agreed":
        return f"{message} It was agreed, so it is a draft again and needs agreeing again."
    if proposed:
        return f"{message} The proposal to agree it was withdrawn, since the text changed; propose it again when ready."
    return message


@blueprint.route(f"{FINDING}/edit", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def edit_finding(slug: str, number: int) -> Page | Response:
    """Edit a finding; a save based on an old revision shows the merge view instead of overwriting."""
    review, finding = _working_finding(slug, number)
    if request.method == "GET":
        restored = restored_fields()
        form = FindingForm(formdata=restored) if restored else FindingForm(data=pages.form_data(finding))
        return _form_page(form, review, finding)
    form = FindingForm()
    valid = form.validate()
    if token_expired(form):
        return _form_page(form, review, finding, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _form_page(form, review, finding, status=400)
    if wants_preview():
        return _form_page(form, review, finding, preview=preview_with_notes(finding, form.body, form.recommendations))
    was, proposed = finding.status, finding.agreement_proposed_by_id is not None
    try:
        with unit_of_work():
            revision = service.edit_finding(
                finding,
                _typed(form),
                actor=current_user,
                base_number=pages.base_number(form.base_revision.data),
                message=form.message.data or "",
            )
    except FindingConflictError as conflict:
        return merge_routes.conflict_page(review, finding, form, conflict)
    except FindingError as error:
        return _form_page(form, review, finding, status=400, message=str(error))
    except IntegrityError:
        race = merge_routes.race(finding, pages.base_number(form.base_revision.data))
        return merge_routes.conflict_page(review, finding, form, race)
    if revision is None:
        flash(f"Nothing was changed, so finding {finding.number} was not saved again.", "info")
    else:
        flash(_saved_message(finding, was, proposed), "success")
    return redirect(_finding_url(finding), code=303)


# --- Reading -------------------------------------------------------------------------------------


def finding_page(
    review: Review, found: Finding, *, discussion: FindingDiscussion | None = None, status: int = 200
) -> Page:
    """The finding's page; `discussion` (the panel's, as a refused or previewed post left it) replaces the fresh one."""
    viewer = current_viewer()
    working = can(viewer, "review.work", review)
    if working and discussion is None:
        discussion = finding_discussion(viewer, found)
    page = _render(
        "panels/finding.html",
        review=review,
        finding=found,
        revisions=queries.revisions_of(found) if working else [],
        working=working,
        report_url=pages.report_url(review) if found.status == FindingStatus.PUBLISHED else None,
        discussion=discussion if working else None,
    )
    return page, status


@blueprint.get(FINDING)
def finding(slug: str, number: int) -> Page:
    """One finding: its text and recommendations, status, agreement, citations and revisions; the panel's discussion."""
    review, found = _readable_finding(slug, number)
    return finding_page(review, found)


@blueprint.get(f"{FINDING}/history")
def finding_history(slug: str, number: int) -> str:
    """Every revision of a finding, newest first, with a form to compare any two."""
    review, found = _working_finding(slug, number)
    return _render("panels/history.html", review=review, finding=found, revisions=queries.revisions_of(found))


@blueprint.get(f"{FINDING}/history/<int:rev>")
def finding_revision(slug: str, number: int, rev: int) -> str:
    """A finding as it stood at one revision."""
    review, found = _working_finding(slug, number)
    revision = queries.revision_of(found, rev)
    if revision is None:
        abort(404)
    return _render(
        "panels/revision.html",
        review=review,
        finding=found,
        revision=revision,
    )


@blueprint.get(f"{FINDING}/compare")
def compare_findings(slug: str, number: int) -> str | Response:
    """What changed between two revisions of a finding."""
    review, found = _working_finding(slug, number)
    old_number, new_number = int_arg("from"), int_arg("to")
    if old_number is None or new_number is None:
        return redirect(url_for(".finding_history", slug=slug, number=number))
    if old_number > new_number:
        old_number, new_number = new_number, old_number
    old, new = queries.revision_of(found, old_number), queries.revision_of(found, new_number)
    if old is None or new is None:
        abort(404)
    diff = diff_texts(pages.finding_document(FindingText.of(old)), pages.finding_document(FindingText.of(new)))
    return _render("panels/compare.html", review=review, finding=found, old=old, new=new, diff=diff)


# --- Agreeing and publishing ---------------------------------------------------------------------


def _change_state(slug: str, number: int, verb: Callable[..., None], done: str) -> Response:
    """Run one state-changing service verb on a finding, commit, and go back to its page saying what happened.

    A refusal (`FindingError`) is shown on the page; someone off the panel gets 404.
    """
    _, found = _working_finding(slug, number)
    try:
        with unit_of_work():
            verb(found, actor=current_user)
    except FindingError as error:
        flash(str(error), "error")
    else:
        flash(done.format(number=found.number), "success")
    return redirect(_finding_url(found), code=303)


@blueprint.post(f"{FINDING}/propose")
@login_required
def propose_agreement(slug: str, number: int) -> Response:
    """Propose that the panel agrees this finding."""
    done = "You proposed agreeing finding {number}. Another panel member or a moderator must agree it."
    return _change_state(slug, number, service.propose_agreement, done)


@blueprint.post(f"{FINDING}/agree")
@login_required
def agree_finding(slug: str, number: int) -> Response:
    """Agree a finding whose agreement another panel member proposed."""
    return _change_state(slug, number, service.agree_finding, "Finding {number} is agreed.")


@blueprint.post(f"{FINDING}/withdraw")
@login_required
def withdraw_finding(slug: str, number: int) -> Response:
    """Set a finding aside (`action=withdraw`) or bring a withdrawn one back as a draft (`action=reinstate`)."""
    if request.form.get("action") == "reinstate":
        return _change_state(slug, number, service.reinstate_finding, "Finding {number} is a draft again.")
    done = "Finding {number} is withdrawn: it stays here but is not published."
    return _change_state(slug, number, service.withdraw_finding, done)


@blueprint.post("/reviews/<slug>/publish")
@login_required
def publish(slug: str) -> Response:
    """Publish the review's findings, once every one is agreed, and mark the review published."""
    review = _workspace_review(slug)
    try:
        with unit_of_work():
            published = service.publish_findings(review, actor=current_user)
    except FindingError as error:
        flash(str(error), "error")
        return redirect(url_for(".workspace", slug=slug), code=303)
    count = len(published)
    flash(f"{count} finding{'s' if count != 1 else ''} published; the review is now published.", "success")
    return redirect(url_for(".workspace", slug=slug), code=303)


# Routes of the panels blueprint kept in their own modules; imported last, as they use the names above.
from kb.panels import correction_routes, merge_routes  # noqa: E402, F401
