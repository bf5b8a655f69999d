"""After the close: the panel's analysis, the answers' CSV, one response, and the "We asked, you said, we did" page.

The analysis, the CSV and the outcome editor are for whoever manages the consultation
(`consultation.manage`: the consulted entry's panel and staff); anyone else gets 404, as
for a consultation they may not read. One response is read by its author and, once
submitted, by the panel (`permissions.can_read_response`). The published outcome page is
read by whoever may read the consultation, without naming other respondents.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as HttpResponse

from kb.comments.export import export_filename
from kb.consultations import analysis, outcome
from kb.consultations.analysis_forms import MAX_CHANGES, OutcomeForm, PublishOutcomeForm, ThemeForm
from kb.consultations.models import Answer, Consultation, OutcomeChange, Response
from kb.consultations.responses_csv import responses_csv
from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.drafts.keeping import keeps_typed_text, restored_fields
from kb.errors import unit_of_work
from kb.extensions import csrf, db
from kb.panels.cited_by import finding_path, findings_citing
from kb.panels.models import Finding
from kb.permissions import (
    Viewer,
    can,
    can_read_response,
    can_view_consultation,
    can_view_finding,
    current_viewer,
)
from kb.previews import preview_parts, wants_preview
from kb.states import ResponseStatus

blueprint = Blueprint("consultation_analysis", __name__)
Page = tuple[str, int]
QUERY_MAX = 200
CSV_TYPE = "text/csv; charset=utf-8"
EXCERPT = 90


# --- Loading -------------------------------------------------------------------------------------


def _visible(consultation_id: int) -> Consultation:
    """The consultation if the viewer may read it; else 404."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or not can_view_consultation(current_viewer(), consultation):
        abort(404)
    return consultation


def _managed(consultation_id: int) -> Consultation:
    """The consultation if the viewer manages it (panel, staff); 404 for everyone else."""
    consultation = _visible(consultation_id)
    if not can(current_viewer(), "consultation.manage", consultation.entry):
        abort(404)
    return consultation


def _arg(name: str) -> str:
    return " ".join(request.values.get(name, "").split())[:QUERY_MAX]


# --- Analysis ------------------------------------------------------------------------------------


def _analysis_page(
    consultation: Consultation,
    *,
    query: str,
    theme: str,
    problem: tuple[int, str, str] | None = None,
    status: int = 200,
) -> Page:
    """The analysis page; `problem` is (answer id, message, typed label) when a theme could not be added."""
    questions, responses = outcome.analysis_data(consultation)
    counted = [analysis.question_charts(q, responses) for q in questions if q.is_counted]
    texts = [
        (question, analysis.text_answers(question, responses, query=query, theme=theme))
        for question in questions
        if not question.is_counted
    ]
    page = render_template(
        "consultations/analysis.html",
        consultation=consultation,
        responses=responses,
        counted=counted,
        texts=texts,
        themes=analysis.theme_counts(responses),
        query=query,
        theme=theme,
        problem=problem,
        paragraphs=analysis.paragraphs,
    )
    return page, status


@blueprint.get("/consultations/<int:consultation_id>/analysis", endpoint="analysis")
def analysis_page(consultation_id: int) -> Page:
    """Counts, charts and free-text answers of a closed consultation; before the close, when it will open."""
    consultation = _managed(consultation_id)
    if not outcome.is_closed(consultation):
        return render_template("consultations/analysis_pending.html", consultation=consultation), 200
    return _analysis_page(consultation, query=_arg("q"), theme=_arg("theme"))


def _back_to_analysis(consultation: Consultation, form: ThemeForm, answer_id: int) -> HttpResponse:
    args = {key: value for key, value in (("q", form.q.data), ("theme", form.theme_filter.data)) if value}
    target = url_for("consultation_analysis.analysis", consultation_id=consultation.id, **args)
    return redirect(f"{target}#answer-{answer_id}", code=303)


def _theme_target(consultation_id: int, answer_id: int) -> tuple[Consultation, Answer]:
    """The closed, managed consultation and one of its submitted answers; else 404."""
    consultation = _managed(consultation_id)
    if not outcome.is_closed(consultation):
        abort(404)
    answer = outcome.submitted_answer(consultation, answer_id)
    if answer is None:
        abort(404)
    return consultation, answer


@blueprint.post("/consultations/<int:consultation_id>/answers/<int:answer_id>/themes")
@login_required
def add_theme(consultation_id: int, answer_id: int) -> Page | HttpResponse:
    """Tag a free-text answer with a theme, then go back to the same view of the analysis."""
    consultation, answer = _theme_target(consultation_id, answer_id)
    form = ThemeForm()
    typed = form.label.data or ""
    try:
        with unit_of_work():
            outcome.tag_answer(answer, typed, actor=current_user)
    except analysis.ThemeLabelError as error:
        query, theme = _arg("q"), _arg("theme_filter")
        return _analysis_page(
            consultation, query=query, theme=theme, problem=(answer_id, str(error), typed), status=400
        )
    except IntegrityError:
        # Someone else added the same theme to this answer at the same moment: it is there either way.
        pass
    return _back_to_analysis(consultation, form, answer_id)


@blueprint.post("/consultations/<int:consultation_id>/answers/<int:answer_id>/themes/remove")
@login_required
def remove_theme(consultation_id: int, answer_id: int) -> HttpResponse:
    """Take a theme off a free-text answer, then go back to the same view of the analysis."""
    consultation, answer = _theme_target(consultation_id, answer_id)
    form = ThemeForm()
    with unit_of_work():
        removed = outcome.untag_answer(answer, form.label.data or "", actor=current_user)
    if not removed:
        flash("That answer did not carry that theme; nothing was changed.", "info")
    return _back_to_analysis(consultation, form, answer_id)


@blueprint.get("/consultations/<int:consultation_id>/responses.csv")
def csv(consultation_id: int) -> HttpResponse:
    """Every submitted response as CSV (UTF-8 with a byte order mark), for the panel after the close."""
    consultation = _managed(consultation_id)
    if not outcome.is_closed(consultation):
        return redirect(url_for("consultation_analysis.analysis", consultation_id=consultation.id), code=303)
    questions, responses = outcome.analysis_data(consultation)
    body = responses_csv(questions, responses)
    download = HttpResponse(body, content_type=CSV_TYPE)
    filename = export_filename(f"consultation-{consultation.id}", "responses", "csv")
    download.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    download.headers["Cache-Control"] = "private, no-store"
    return download


# --- One response --------------------------------------------------------------------------------


@blueprint.get("/consultations/<int:consultation_id>/responses/<int:response_id>")
def response(consultation_id: int, response_id: int) -> str:
    """One response in full: for its author, and for the panel once submitted."""
    consultation = _visible(consultation_id)
    found = outcome.readable_response(consultation, response_id)
    viewer = current_viewer()
    if found is None or not can_read_response(viewer, found):
        abort(404)
    questions = [outcome.question_data(question, number) for number, question in enumerate(consultation.questions, 1)]
    return render_template(
        "consultations/response.html",
        consultation=consultation,
        response=found,
        data=outcome.response_data(found),
        questions=questions,
        own=viewer.user_id is not None and found.user_id == viewer.user_id,
        manages=can(viewer, "consultation.manage", consultation.entry),
        cited_by=findings_citing(viewer, response_ids=[found.id]).responses.get(found.id, []),
        paragraphs=analysis.paragraphs,
    )


# --- We asked, you said, we did ------------------------------------------------------------------


def _response_label(response: Response) -> str:
    """How the panel's editor names a response: its number, organisation and the start of its first text answer."""
    text = next((answer.text.strip() for answer in response.answers if (answer.text or "").strip()), "")
    words = " ".join(text.split())
    excerpt = f": “{words[:EXCERPT]}{'…' if len(words) > EXCERPT else ''}”" if words else ""
    who = response.organisation_name or "no organisation recorded"
    return f"Response {response.id} ({who}){excerpt}"


def _finding_label(finding: Finding) -> str:
    return f"Finding {finding.number}: {finding.title}"


def _findings_shown(viewer: Viewer, consultation: Consultation, change: OutcomeChange) -> list[tuple[str, str | None]]:
    """Each finding a change names, as the viewer may know it: with a link, as consulted on, or unnamed."""
    consulted = {item.finding_id: item for item in consultation.consulted_findings if item.finding_id is not None}
    shown: list[tuple[str, str | None]] = []
    for finding in change.findings:
        if can_view_finding(viewer, finding):
            shown.append((_finding_label(finding), finding_path(finding.review.slug, finding.number)))
        elif finding.id in consulted:
            item = consulted[finding.id]
            shown.append((f"Finding {item.number} as consulted on: {item.title}", None))
        else:
            shown.append(("A finding the panel is still drafting", None))
    return shown


def _outcome_changes(viewer: Viewer, consultation: Consultation, manages: bool) -> list[dict[str, Any]]:
    items = []
    for change in outcome.changes_of(consultation):
        submitted = [r for r in change.responses if r.status == ResponseStatus.SUBMITTED]
        yours = next((r for r in submitted if viewer.user_id is not None and r.user_id == viewer.user_id), None)
        items.append(
            {
                "change": change,
                "count": len(submitted),
                "yours": yours,
                "responses": [(r, _response_label(r)) for r in submitted] if manages else [],
                "findings": _findings_shown(viewer, consultation, change),
            }
        )
    return items


@blueprint.get("/consultations/<int:consultation_id>/outcome", endpoint="outcome")
def outcome_page(consultation_id: int) -> str:
    """The "We asked, you said, we did" page: for readers once published; for the panel, its draft too."""
    consultation = _visible(consultation_id)
    viewer = current_viewer()
    manages = can(viewer, "consultation.manage", consultation.entry)
    if consultation.outcome_published_at is None and not manages:
        abort(404)
    responses = outcome.submitted_responses(consultation)
    own = next((r for r in responses if viewer.user_id is not None and r.user_id == viewer.user_id), None)
    return render_template(
        "consultations/outcome.html",
        consultation=consultation,
        manages=manages,
        closed=outcome.is_closed(consultation),
        response_count=len(responses),
        own_response=own,
        changes=_outcome_changes(viewer, consultation, manages),
        publish_form=PublishOutcomeForm(),
    )


def _choices(consultation: Consultation) -> tuple[list[tuple[int, str]], list[tuple[int, str]], dict[str, list[int]]]:
    # Answers may still change until the close, so none is offered to link before it.
    closed = outcome.is_closed(consultation)
    responses = [(r.id, _response_label(r)) for r in (outcome.submitted_responses(consultation) if closed else [])]
    findings = [(f.id, _finding_label(f)) for f in outcome.linkable_findings(current_viewer(), consultation)]
    return responses, findings, outcome.themed_responses(consultation) if closed else {}


def _stored_form(consultation: Consultation) -> OutcomeForm:
    """The editor filled from what is stored, with one blank change item to add another."""
    changes = [
        {
            "you_said": change.you_said,
            "we_did": change.we_did,
            "responses": [r.id for r in change.responses],
            "findings": [f.id for f in change.findings],
        }
        for change in outcome.changes_of(consultation)
    ]
    form = OutcomeForm(data={"we_asked": consultation.we_asked, "you_said": consultation.you_said, "changes": changes})
    if len(form.changes) < MAX_CHANGES:
        form.changes.append_entry()
    return form


def _form_errors(form: OutcomeForm) -> list[tuple[str, str]]:
    """Every field error of the editor as (field id, message), change items included, for the error summary."""
    found = [(field.id, error) for field in (form.we_asked, form.you_said) for error in field.errors]
    for entry in form.changes:
        found += [(field.id, error) for field in entry.form for error in field.errors]
    return found


def _editor(
    consultation: Consultation, form: OutcomeForm, *, message: str | None = None, status: int = 200, **extra: Any
) -> Page:
    responses, findings, themes = _choices(consultation)
    form.set_choices(responses, findings, themes)
    page = render_template(
        "consultations/outcome_edit.html",
        consultation=consultation,
        form=form,
        message=message,
        closed=outcome.is_closed(consultation),
        has_responses=bool(responses),
        has_findings=bool(findings),
        has_themes=bool(themes),
        errors=_form_errors(form),
        **extra,
    )
    return page, status


@blueprint.route("/consultations/<int:consultation_id>/outcome/edit", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
def edit_outcome(consultation_id: int) -> Page | HttpResponse:
    """Write or correct the outcome page; a problem shows the form again with everything typed kept."""
    consultation = _managed(consultation_id)
    if request.method == "GET":
        restored = restored_fields()
        return _editor(consultation, OutcomeForm(formdata=restored) if restored else _stored_form(consultation))
    form = OutcomeForm()
    form.set_choices(*_choices(consultation))
    valid = form.validate()
    if token_expired(form):
        return _editor(consultation, form, message=EXPIRED_MESSAGE, status=400)
    if not valid:
        return _editor(consultation, form, status=400)
    if wants_preview():
        return _editor(consultation, form, preview=preview_parts(*form.markdown_texts()))
    try:
        with unit_of_work():
            outcome.save_outcome(
                consultation,
                actor=current_user,
                we_asked=form.we_asked.data or "",
                you_said=form.you_said.data or "",
                changes=form.drafts(),
            )
    except outcome.OutcomeError as error:
        return _editor(consultation, form, message=str(error), status=400)
    if request.form.get("then") == "add":
        flash("Saved. Write the next change below.", "success")
        target = url_for("consultation_analysis.edit_outcome", consultation_id=consultation.id)
        return redirect(f"{target}#new-change", code=303)
    flash(
        "The outcome page is saved." + (" Readers see the change." if consultation.outcome_published_at else ""),
        "success",
    )
    return redirect(url_for("consultation_analysis.outcome", consultation_id=consultation.id), code=303)


@blueprint.post("/consultations/<int:consultation_id>/outcome/publish")
@login_required
def publish_outcome(consultation_id: int) -> HttpResponse:
    """Publish the outcome page and tell everyone who responded."""
    consultation = _managed(consultation_id)
    try:
        with unit_of_work():
            told = outcome.publish_outcome(consultation, actor=current_user)
    except outcome.OutcomeError as error:
        flash(str(error), "error")
    else:
        flash(
            f"The outcome is published; {len(told)} {'person who' if len(told) == 1 else 'people who'} responded "
            f"{'has' if len(told) == 1 else 'have'} been told.",
            "success",
        )
    return redirect(url_for("consultation_analysis.outcome", consultation_id=consultation.id), code=303)
