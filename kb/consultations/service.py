"""Opening a consultation, changing it before it opens, and members' answers to it.

Every verb checks the actor's right through `kb.permissions`, changes the models and
flushes; the route commits once. A refusal the person can act on raises a
`ConsultationError` (or `AnswerProblemsError`, one message per question) whose message
is shown above what they typed, which is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from kb.audit.service import record_event
from kb.consultations.copies import record_links
from kb.consultations.models import (
    QUESTION_KINDS,
    SCALE_OPTIONS,
    Answer,
    Consultation,
    ConsultedFinding,
    Question,
    Response,
)
from kb.consultations.opening import announce
from kb.consultations.receipts import send_receipt
from kb.consultations.windows import OPEN, UPCOMING, WindowError, as_utc, check_window, state_at
from kb.dates import london_time, utcnow
from kb.entries.targets import targets_for
from kb.errors import ConflictError, InvalidInputError
from kb.extensions import db
from kb.panels.models import Finding
from kb.permissions import require, viewer_for, visible_findings
from kb.states import EntryKind, QuestionKind, ResponseStatus

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.users.models import User

CONSULTED_KINDS = frozenset({EntryKind.PAPER, EntryKind.REVIEW})
"""What a consultation can be about: a meeting paper, or a review (its draft findings)."""
TITLE_MAX = 300
INTRODUCTION_MAX = 20_000
PROMPT_MAX = 2_000
HINT_MAX = 500
OPTION_MAX = 200
OPTIONS_MAX = 12
QUESTIONS_MAX = 30
ANSWER_MAX = 10_000


class ConsultationError(InvalidInputError):
    """A consultation or response that cannot be saved as it is; the message says why and what to do."""

    status = 400


class WindowClosedError(ConsultationError, ConflictError):
    """The consultation is not open (not yet, or no longer), or has opened and can no longer be changed."""

    status = 409


class AnswerProblemsError(ConsultationError):
    """Some answers cannot be taken; `problems` maps each question's id to what is wrong with its answer."""

    def __init__(self, problems: dict[int, str]) -> None:
        super().__init__("Some answers need attention before your response can be saved.")
        self.problems = problems


@dataclass(frozen=True)
class QuestionDraft:
    """One question as the person opening the consultation wrote it."""

    kind: str
    prompt: str
    hint: str = ""
    options: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class ConsultationDraft:
    """Everything that opens (or changes) a consultation; times are UTC."""

    title: str
    introduction: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    questions: tuple[QuestionDraft, ...]
    finding_ids: tuple[int, ...] = field(default_factory=tuple)
    tell_all_members: bool = False
    """Tell every member who may read it when it opens, not only those following what it is about."""


def check_question(question: QuestionDraft) -> None:
    """Raise `ConsultationError` unless the question has a known kind, a prompt, and (for a choice) 2 to 12 options."""
    if question.kind not in QUESTION_KINDS:
        raise ConsultationError(f"Choose what kind of answer the question “{question.prompt[:40]}” takes.")
    if not question.prompt.strip():
        raise ConsultationError("Every question needs its text.")
    if len(question.prompt) > PROMPT_MAX or len(question.hint) > HINT_MAX:
        raise ConsultationError(f"A question must be {PROMPT_MAX:,} characters or fewer and its hint {HINT_MAX}.")
    if question.kind != QuestionKind.CHOICE:
        return
    options = [option.strip() for option in question.options if option.strip()]
    if not 2 <= len(options) <= OPTIONS_MAX or len(set(options)) != len(options):
        raise ConsultationError(f"A choice question needs 2 to {OPTIONS_MAX} different options, one a line.")
    if any(len(option) > OPTION_MAX for option in options):
        raise ConsultationError(f"Each option must be {OPTION_MAX} characters or fewer.")


def check_draft(draft: ConsultationDraft, *, now: dt.datetime) -> None:
    """Raise `ConsultationError` for a draft kb cannot open: no title, no questions, a bad or past window."""
    if not draft.title.strip() or len(draft.title) > TITLE_MAX:
        raise ConsultationError(f"Give the consultation a title of {TITLE_MAX} characters or fewer.")
    if len(draft.introduction) > INTRODUCTION_MAX:
        raise ConsultationError(f"The introduction must be {INTRODUCTION_MAX:,} characters or fewer.")
    if not draft.questions:
        raise ConsultationError("Ask at least one question.")
    if len(draft.questions) > QUESTIONS_MAX:
        raise ConsultationError(f"Ask at most {QUESTIONS_MAX} questions.")
    for question in draft.questions:
        check_question(question)
    try:
        check_window(draft.opens_at, draft.closes_at)
    except WindowError as error:
        raise ConsultationError(str(error)) from None
    if as_utc(draft.closes_at) <= as_utc(now):
        raise ConsultationError("The closing time has already passed; choose a later one.")


def _set_questions(consultation: Consultation, questions: Sequence[QuestionDraft]) -> None:
    consultation.questions = [
        Question(
            position=position,
            kind=question.kind,
            prompt=question.prompt.strip(),
            hint=question.hint.strip(),
            options=[option.strip() for option in question.options if option.strip()]
            if question.kind == QuestionKind.CHOICE
            else [],
            required=question.required,
        )
        for position, question in enumerate(questions)
    ]


def _set_findings(consultation: Consultation, entry: Entry, finding_ids: Sequence[int], actor: User) -> None:
    """Snapshot the chosen findings of a review, as the actor may read them, in number order."""
    consultation.consulted_findings = []
    if entry.kind != EntryKind.REVIEW or not finding_ids:
        return
    query = (
        select(Finding)
        .where(Finding.review_id == entry.id, Finding.id.in_(finding_ids), visible_findings(viewer_for(actor)))
        .order_by(Finding.number)
    )
    findings = list(db.session.scalars(query))
    if len(findings) != len(set(finding_ids)):
        raise ConsultationError("Choose findings of this review only.")
    consultation.consulted_findings = [
        ConsultedFinding(
            finding_id=finding.id,
            position=position,
            number=finding.number,
            title=finding.title,
            body=finding.body,
            recommendations=finding.recommendations,
        )
        for position, finding in enumerate(findings)
    ]
    targets = targets_for(text for finding in findings for text in (finding.body, finding.recommendations))
    for copy in consultation.consulted_findings:
        record_links(copy, targets)


def open_consultation(entry: Entry, draft: ConsultationDraft, *, actor: User) -> Consultation:
    """Set up a consultation on a paper or a review, opening and closing at the draft's times.

    Raises `PermissionDeniedError` unless the actor may manage consultations on `entry`
    (staff, or its review's panel), and `ConsultationError` for what cannot be consulted
    on or a draft that is not complete. One that is open at once is announced at once
    (`kb.consultations.opening`); a later opening is announced by the timed job.
    """
    require(actor, "consultation.manage", entry)
    if entry.kind not in CONSULTED_KINDS:
        raise ConsultationError("Consultations are about a meeting paper or a review's findings.")
    check_draft(draft, now=utcnow())
    consultation = Consultation(
        entry=entry,
        title=draft.title.strip(),
        introduction=draft.introduction.strip(),
        opens_at=as_utc(draft.opens_at),
        closes_at=as_utc(draft.closes_at),
        created_by=actor,
        tell_all_members=draft.tell_all_members,
    )
    db.session.add(consultation)
    _set_questions(consultation, draft.questions)
    _set_findings(consultation, entry, draft.finding_ids, actor)
    db.session.flush()
    window = f"{london_time(consultation.opens_at)} to {london_time(consultation.closes_at)}"
    record_event("consultation.open", actor=actor, target=consultation, new=window, target_label=consultation.title)
    announce(consultation)
    return consultation


def update_consultation(consultation: Consultation, draft: ConsultationDraft, *, actor: User) -> Consultation:
    """Change a consultation that has not opened yet: its text, window, questions and findings.

    Raises `PermissionDeniedError` as `open_consultation` does, `WindowClosedError` once
    it has opened (members may have answered), and `ConsultationError` for a bad draft.
    A new opening time already come opens it, and it is announced at once.
    """
    require(actor, "consultation.manage", consultation.entry)
    now = utcnow()
    if state_at(consultation.opens_at, consultation.closes_at, now) != UPCOMING:
        raise WindowClosedError("This consultation has opened, so it can no longer be changed.")
    check_draft(draft, now=now)
    old = f"{london_time(consultation.opens_at)} to {london_time(consultation.closes_at)}"
    consultation.title = draft.title.strip()
    consultation.introduction = draft.introduction.strip()
    consultation.opens_at = as_utc(draft.opens_at)
    consultation.closes_at = as_utc(draft.closes_at)
    consultation.reminder_sent_at = None
    consultation.tell_all_members = draft.tell_all_members
    _set_questions(consultation, draft.questions)
    _set_findings(consultation, consultation.entry, draft.finding_ids, actor)
    db.session.flush()
    new = f"{london_time(consultation.opens_at)} to {london_time(consultation.closes_at)}"
    record_event(
        "consultation.edit", actor=actor, target=consultation, old=old, new=new, target_label=consultation.title
    )
    announce(consultation)
    return consultation


def allowed_choices(question: Question) -> list[str]:
    """The values an answer to a scale or choice question may take, in the order offered."""
    if question.kind == QuestionKind.SCALE:
        return list(SCALE_OPTIONS)
    return list(question.options) if question.kind == QuestionKind.CHOICE else []


def check_answers(questions: Sequence[Question], answers: Mapping[int, str], *, submit: bool) -> dict[int, str]:
    """Each question's answer cleaned; raises `AnswerProblemsError` naming every answer that cannot be taken.

    A draft may leave questions out; a submitted response must answer the required ones.
    """
    cleaned: dict[int, str] = {}
    problems: dict[int, str] = {}
    for number, question in enumerate(questions, start=1):
        value = (answers.get(question.id) or "").strip()
        choices = allowed_choices(question)
        if choices and value and value not in choices:
            problems[question.id] = f"Question {number}: choose one of the options given."
        elif len(value) > ANSWER_MAX:
            problems[question.id] = (
                f"Question {number}: answers must be {ANSWER_MAX:,} characters or fewer; yours has {len(value):,}."
            )
        elif submit and question.required and not value:
            problems[question.id] = f"Question {number}: this question needs an answer before you submit."
        elif value:
            cleaned[question.id] = value
    if problems:
        raise AnswerProblemsError(problems)
    return cleaned


def _closed_message(consultation: Consultation, state: str) -> str:
    if state == UPCOMING:
        opens = london_time(consultation.opens_at)
        return f"This consultation opens at {opens} (London time); answers are taken from then."
    return (
        f"This consultation closed at {london_time(consultation.closes_at)} (London time), so answers can no "
        "longer be saved or changed. What you typed is below, so you can keep a copy."
    )


def _snapshot_organisation(response: Response, actor: User) -> None:
    organisation = actor.organisation
    response.organisation_name = organisation.name if organisation else ""
    response.organisation_type = organisation.type if organisation else ""
    response.region = (organisation.region or "") if organisation else ""


def _find_or_start_response(consultation: Consultation, actor: User) -> Response:
    response = db.session.scalar(
        select(Response).where(Response.consultation_id == consultation.id, Response.user_id == actor.id)
    )
    if response is None:
        response = Response(consultation=consultation, user_id=actor.id, status="draft")
        db.session.add(response)
    return response


def _store_answers(response: Response, questions: Sequence[Question], cleaned: Mapping[int, str]) -> None:
    existing = {answer.question_id: answer for answer in response.answers}
    for question in questions:
        value = cleaned.get(question.id)
        answer = existing.get(question.id)
        if value is None:
            if answer is not None:
                response.answers.remove(answer)
            continue
        if answer is None:
            answer = Answer(question_id=question.id)
            response.answers.append(answer)
        answer.text = value if question.kind == QuestionKind.TEXT else ""
        answer.choice = None if question.kind == QuestionKind.TEXT else value


def save_response(
    consultation: Consultation, answers: Mapping[int, str], *, actor: User, submit: bool, now: dt.datetime | None = None
) -> Response:
    """Save the actor's answers as a draft, or submit them; a submitted response stays submitted when edited.

    One response per member; it can be changed until the close. Submitting copies the
    member's organisation name, type and region onto the response, and each save of a
    submitted response sends the member a receipt listing their answers. Raises
    `PermissionDeniedError` for someone who may not answer, `WindowClosedError` outside
    the window, and `AnswerProblemsError` for answers that cannot be taken.
    """
    require(actor, "consultation.respond", consultation.entry)
    now = now or utcnow()
    state = state_at(consultation.opens_at, consultation.closes_at, now)
    if state != OPEN:
        raise WindowClosedError(_closed_message(consultation, state))
    response = _find_or_start_response(consultation, actor)
    submit = submit or response.status == ResponseStatus.SUBMITTED
    cleaned = check_answers(consultation.questions, answers, submit=submit)
    _store_answers(response, consultation.questions, cleaned)
    response.updated_at = now
    if submit:
        previous = response.status
        response.status = "submitted"
        response.submitted_at = response.submitted_at or now
        _snapshot_organisation(response, actor)
        record_event(
            "response.submit",
            actor=actor,
            target=consultation,
            old=previous,
            new="submitted",
            target_label=consultation.title,
        )
    db.session.flush()
    if submit:
        send_receipt(response, submitter=actor)
    return response


def state_of(consultation: Consultation, now: dt.datetime | None = None) -> str:
    """`upcoming`, `open` or `closed` now (or at `now`)."""
    return state_at(consultation.opens_at, consultation.closes_at, now or utcnow())
