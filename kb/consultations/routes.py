"""Consultations: opening one, reading it, answering it, calendar links.

A consultation is seen by whoever may see its entry and answers 404 for everyone else.
The set-up and answering forms keep what was typed through an ended session or a stale
form token as a draft that comes back in the form (`kb.drafts.keeping`; answers come
back on the consultation's page, which holds their form); a bad answer or a consultation
that closed while someone typed shows the form again with everything typed still in it
and a clear message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as HttpResponse
from wtforms import SelectChoice

from kb.consultations import queries
from kb.consultations.calendar import ClosingEvent, closing_calendar
from kb.consultations.forms import AnswerForm, ConsultationForm, form_data_for
from kb.consultations.models import SCALE_OPTIONS, Consultation, Question
from kb.consultations.receipts import answered_questions
from kb.consultations.service import (
    CONSULTED_KINDS,
    AnswerProblemsError,
    ConsultationError,
    WindowClosedError,
    open_consultation,
    save_response,
    state_of,
    update_consultation,
)
from kb.consultations.windows import OPEN, UPCOMING
from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.dates import utcnow
from kb.drafts.keeping import keeps_typed_text, restored_fields
from kb.entries import queries as entry_queries
from kb.entries.models import Entry
from kb.errors import unit_of_work
from kb.extensions import csrf
from kb.mail import site_link
from kb.permissions import can, current_viewer
from kb.previews import preview_parts, wants_preview
from kb.states import QuestionKind, ResponseStatus

blueprint = Blueprint("consultations", __name__)
Page = tuple[str, int]


def _visible(consultation_id: int) -> Consultation:
    consultation = queries.visible_consultation(current_viewer(), consultation_id)
    if consultation is None:
        abort(404)
    return consultation


def _manageable_entry(slug: str) -> Entry:
    """The paper or review to consult on: 404 unless the viewer sees it, 403 unless they may manage it."""
    entry = entry_queries.visible_entry(current_viewer(), slug)
    if entry is None or entry.kind not in CONSULTED_KINDS:
        abort(404)
    if not can(current_viewer(), "consultation.manage", entry):
        abort(403)
    return entry


@blueprint.get("/consultations")
def index() -> str:
    """Open, upcoming and closed consultations the viewer may see."""
    groups = queries.consultations_by_state(current_viewer(), utcnow())
    return render_template("consultations/index.html", groups=groups)


def _form_page(form: ConsultationForm, entry: Entry, *, consultation: Consultation | None = None, **extra: Any) -> Page:
    status = extra.pop("status", 200)
    page = render_template("consultations/form.html", form=form, entry=entry, consultation=consultation, **extra)
    return page, status


def _with_findings(form: ConsultationForm, entry: Entry) -> ConsultationForm:
    findings = queries.findings_to_offer(current_viewer(), entry)
    form.findings.choices = [
        SelectChoice(finding.id, f"Finding {finding.number}: {finding.title}") for finding in findings
    ]
    return form


def _checked(form: ConsultationForm) -> str | None:
    """Validate the form: None when it is good, else the message to show ("" when the fields say it all)."""
    valid = form.validate()
    if token_expired(form):
        return EXPIRED_MESSAGE
    return None if valid else ""


def _preview_page(form: ConsultationForm, entry: Entry, **extra: Any) -> Page:
    """The form again with its introduction as it will look; only the introduction's own checks apply."""
    if not form.introduction.validate(form):
        return _form_page(form, entry, status=400, **extra)
    return _form_page(form, entry, preview=preview_parts(form.introduction), **extra)


def _new_page(**_: Any) -> str:
    return url_for("consultations.new", entry=request.args.get("entry", ""))


@blueprint.route("/consultations/new", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text(_new_page)
@login_required
def new() -> Page | HttpResponse:
    """Set up a consultation on the paper or review named by `?entry=<slug>`."""
    entry = _manageable_entry(request.args.get("entry", ""))
    if request.method == "GET":
        return _form_page(_with_findings(ConsultationForm(formdata=restored_fields()), entry), entry)
    form = _with_findings(ConsultationForm(), entry)
    if request.form.get("action") == "add-question":
        form.add_block()
        return _form_page(form, entry)
    if wants_preview():
        return _preview_page(form, entry)
    problem = _checked(form)
    if problem is not None:
        return _form_page(form, entry, status=400, message=problem or None)
    try:
        with unit_of_work():
            consultation = open_consultation(entry, form.to_draft(), actor=current_user)
    except ConsultationError as error:
        return _form_page(form, entry, status=error.status, message=str(error))
    flash(
        "The consultation is set up. Members who may read it can answer between its opening and closing times.",
        "success",
    )
    return redirect(url_for("consultations.show", consultation_id=consultation.id), code=303)


@blueprint.route("/consultations/<int:consultation_id>/edit", methods=["GET", "POST"])
@csrf.exempt
@keeps_typed_text()
@login_required
def edit(consultation_id: int) -> Page | HttpResponse:
    """Change a consultation until it opens."""
    consultation = _visible(consultation_id)
    entry = consultation.entry
    if not can(current_viewer(), "consultation.manage", entry):
        abort(403)
    locked = state_of(consultation) != UPCOMING
    message = "This consultation has opened, so it can no longer be changed." if locked else None
    if request.method == "GET":
        restored = restored_fields()
        if restored:
            form = _with_findings(ConsultationForm(formdata=restored), entry)
        else:
            form = _with_findings(ConsultationForm(formdata=None, data=form_data_for(consultation)), entry)
        return _form_page(form, entry, consultation=consultation, locked=locked, message=message)
    form = _with_findings(ConsultationForm(), entry)
    if request.form.get("action") == "add-question" and not locked:
        form.add_block()
        return _form_page(form, entry, consultation=consultation)
    if wants_preview() and not locked:
        return _preview_page(form, entry, consultation=consultation)
    problem = _checked(form)
    if problem is not None:
        return _form_page(form, entry, consultation=consultation, status=400, message=problem or None, locked=locked)
    try:
        with unit_of_work():
            update_consultation(consultation, form.to_draft(), actor=current_user)
    except ConsultationError as error:
        locked = isinstance(error, WindowClosedError)
        return _form_page(
            form, entry, consultation=consultation, status=error.status, message=str(error), locked=locked
        )
    flash("Your changes to the consultation have been saved.", "success")
    return redirect(url_for("consultations.show", consultation_id=consultation.id), code=303)


def _choices(question: Question) -> list[tuple[str, str]]:
    """The (value, label) pairs a scale or choice question offers."""
    if question.kind == QuestionKind.SCALE:
        return list(SCALE_OPTIONS.items())
    return [(option, option) for option in question.options or []]


def _show_page(
    consultation: Consultation,
    *,
    typed: dict[int, str] | None = None,
    problems: dict[int, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Page:
    """The consultation page: its text, its window and state, and the viewer's answers (as typed, if given)."""
    viewer = current_viewer()
    entry = consultation.entry
    state = state_of(consultation)
    response = queries.response_of(consultation, viewer.user_id)
    stored = {answer.question_id: answer.choice or answer.text for answer in response.answers} if response else {}
    manage = can(viewer, "consultation.manage", entry)
    page = render_template(
        "consultations/show.html",
        consultation=consultation,
        entry=entry,
        state=state,
        response=response,
        answers=typed if typed is not None else stored,
        problems=problems or {},
        scale=SCALE_OPTIONS,
        choices_of={question.id: _choices(question) for question in consultation.questions},
        message=message,
        can_answer=state == OPEN and can(viewer, "consultation.respond", entry),
        manage=manage,
        submitted=queries.submitted_count(consultation) if manage else None,
        analysis_url=url_for("consultation_analysis.analysis", consultation_id=consultation.id) if manage else None,
        outcome_url=url_for("consultation_analysis.outcome", consultation_id=consultation.id)
        if consultation.outcome_published_at or manage
        else None,
    )
    return page, status


@blueprint.get("/consultations/<int:consultation_id>")
def show(consultation_id: int) -> Page:
    """A consultation: introduction, what it is about, its window, questions and the viewer's answer form.

    `?draft=` brings back answers kept when a post could not be taken (see `answer`).
    """
    consultation = _visible(consultation_id)
    restored = restored_fields()
    if restored is None:
        return _show_page(consultation)
    typed = {question.id: restored.get(f"answer-{question.id}", "") for question in consultation.questions}
    return _show_page(consultation, typed=typed)


def _show_address(consultation_id: int) -> str:
    return url_for("consultations.show", consultation_id=consultation_id)


@blueprint.post("/consultations/<int:consultation_id>/answer")
@csrf.exempt
@keeps_typed_text(_show_address, anchor="your-response")
@login_required
def answer(consultation_id: int) -> Page | HttpResponse:
    """Save the viewer's answers as a draft (`action=draft`) or submit them (`action=submit`)."""
    consultation = _visible(consultation_id)
    form = AnswerForm()
    typed = {question.id: request.form.get(f"answer-{question.id}", "") for question in consultation.questions}
    form.validate()
    if token_expired(form):
        return _show_page(consultation, typed=typed, message=EXPIRED_MESSAGE, status=400)
    submit = request.form.get("action") == "submit"
    try:
        with unit_of_work():
            response = save_response(consultation, typed, actor=current_user, submit=submit)
    except AnswerProblemsError as error:
        return _show_page(consultation, typed=typed, problems=error.problems, message=str(error), status=400)
    except ConsultationError as error:
        return _show_page(consultation, typed=typed, message=str(error), status=error.status)
    except IntegrityError:
        message = "Your response was being saved from another window at the same moment. Send it again."
        return _show_page(consultation, typed=typed, message=message, status=409)
    if response.status == ResponseStatus.SUBMITTED:
        return redirect(url_for("consultations.receipt", consultation_id=consultation.id), code=303)
    flash("Your draft has been saved. It is not counted until you submit it.", "success")
    return redirect(url_for("consultations.show", consultation_id=consultation.id) + "#your-response", code=303)


@blueprint.get("/consultations/<int:consultation_id>/receipt")
@login_required
def receipt(consultation_id: int) -> str | HttpResponse:
    """The signed-in member's receipt: their submitted response confirmed, with every answer they gave.

    Someone without a submitted response is sent to the consultation's page to answer it.
    """
    consultation = _visible(consultation_id)
    response = queries.response_of(consultation, current_viewer().user_id)
    if response is None or response.status != ResponseStatus.SUBMITTED:
        return redirect(url_for("consultations.show", consultation_id=consultation.id) + "#your-response")
    return render_template(
        "consultations/receipt.html",
        consultation=consultation,
        response=response,
        answered=answered_questions(response),
        state=state_of(consultation),
    )


@blueprint.get("/consultations/<int:consultation_id>/closing.ics")
def calendar(consultation_id: int) -> HttpResponse:
    """The consultation's closing time as an iCalendar file to add to a calendar."""
    consultation = _visible(consultation_id)
    address = site_link(url_for("consultations.show", consultation_id=consultation.id))
    host = urlsplit(current_app.config["SITE_URL"]).hostname or "kb.local"
    event = ClosingEvent(consultation.id, consultation.title, consultation.closes_at, address, host)
    response = make_response(closing_calendar(event, stamp=utcnow()))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="consultation-{consultation.id}-closing.ics"'
    return response
