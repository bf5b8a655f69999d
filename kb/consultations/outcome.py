"""The panel's work after a consultation closes: themes on answers, and "We asked, you said, we did".

Verbs take `actor=`, check `consultation.manage` on the consulted entry through
`require`, change the models, flush and never commit; each change is audited. The read
helpers load a consultation's submitted responses for the analysis and CSV in a fixed
number of queries and turn them into `kb.consultations.analysis` values.

Publishing the outcome tells every member who submitted a response (and may still read
the consultation) in the app and by mail (`kb.notifications.service.outcome_published`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import selectinload

from kb.audit.service import record_event
from kb.consultations.analysis import (
    AnswerData,
    QuestionData,
    ResponseData,
    normalise_theme,
)
from kb.consultations.models import SCALE_OPTIONS, Answer, AnswerTheme, Consultation, OutcomeChange, Question, Response
from kb.consultations.windows import CLOSED, state_at
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.notifications.models import Notification
from kb.notifications.service import outcome_published
from kb.panels.models import Finding
from kb.permissions import Viewer, require, viewer_for, visible_findings
from kb.states import EntryKind, QuestionKind, ResponseStatus
from kb.users.models import ORGANISATION_TYPES, User

WE_ASKED_MAX = 20_000
CHANGE_TEXT_MAX = 10_000


class OutcomeError(InvalidInputError):
    """What the panel asked cannot be done now (not closed yet, nothing to publish, a bad link); says why."""


@dataclass(frozen=True)
class ChangeDraft:
    """One "you said, we did" item as the panel wrote it, with the ids of the responses and findings behind it."""

    you_said: str
    we_did: str
    response_ids: tuple[int, ...] = ()
    finding_ids: tuple[int, ...] = ()
    theme: str = ""
    """A theme of the analysis: every submitted response with an answer tagged with it is linked too."""


def outcome_path(consultation: Consultation) -> str:
    """The address of a consultation's "We asked, you said, we did" page (`consultation_analysis.outcome`)."""
    return f"/consultations/{consultation.id}/outcome"


def is_closed(consultation: Consultation) -> bool:
    """Whether the consultation has closed, by the consultation windows' own rule (closed from `closes_at` on)."""
    return state_at(consultation.opens_at, consultation.closes_at, utcnow()) == CLOSED


# --- Reading -------------------------------------------------------------------------------------


def submitted_responses(consultation: Consultation) -> list[Response]:
    """The consultation's submitted responses, oldest submission first, with answers and themes loaded (3 queries)."""
    query = (
        select(Response)
        .where(Response.consultation_id == consultation.id, Response.status == ResponseStatus.SUBMITTED)
        .options(selectinload(Response.answers).selectinload(Answer.themes))
        .order_by(Response.submitted_at, Response.id)
    )
    return list(db.session.scalars(query))


def question_data(question: Question, number: int) -> QuestionData:
    """A question as the analysis reads it, its options as (stored key, label) pairs."""
    if question.kind == QuestionKind.SCALE:
        options = tuple(SCALE_OPTIONS.items())
    elif question.kind == QuestionKind.CHOICE:
        options = tuple((option, option) for option in question.options or ())
    else:
        options = ()
    return QuestionData(question.id, number, question.kind, question.prompt, options)


def response_data(response: Response) -> ResponseData:
    """A loaded response as the analysis reads it, with the organisation as it was at submission."""
    answers = {
        answer.question_id: AnswerData(
            answer.id, answer.question_id, answer.text or "", answer.choice, tuple(t.label for t in answer.themes)
        )
        for answer in response.answers
    }
    return ResponseData(
        id=response.id,
        organisation_name=response.organisation_name,
        organisation_type=response.organisation_type,
        organisation_type_label=ORGANISATION_TYPES.get(response.organisation_type, response.organisation_type),
        region=response.region,
        submitted_at=response.submitted_at,
        answers=answers,
    )


def analysis_data(consultation: Consultation) -> tuple[list[QuestionData], list[ResponseData]]:
    """The consultation's questions (numbered from 1) and its submitted responses, as plain values."""
    questions = [question_data(question, number) for number, question in enumerate(consultation.questions, 1)]
    return questions, [response_data(response) for response in submitted_responses(consultation)]


def readable_response(consultation: Consultation, response_id: int) -> Response | None:
    """A response to this consultation with its answers and their themes loaded, or None (not checked for reading)."""
    query = (
        select(Response)
        .where(Response.id == response_id, Response.consultation_id == consultation.id)
        .options(selectinload(Response.answers).selectinload(Answer.themes))
    )
    return db.session.scalar(query)


def changes_of(consultation: Consultation) -> list[OutcomeChange]:
    """The outcome's change items in order, with their responses (and answers) and findings (and reviews) loaded."""
    query = (
        select(OutcomeChange)
        .where(OutcomeChange.consultation_id == consultation.id)
        .options(
            selectinload(OutcomeChange.responses).selectinload(Response.answers),
            selectinload(OutcomeChange.findings).selectinload(Finding.review),
        )
        .order_by(OutcomeChange.position, OutcomeChange.id)
    )
    return list(db.session.scalars(query))


def submitted_answer(consultation: Consultation, answer_id: int) -> Answer | None:
    """An answer of one of the consultation's submitted responses, or None."""
    return db.session.scalar(
        select(Answer)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Answer.id == answer_id,
            Response.consultation_id == consultation.id,
            Response.status == ResponseStatus.SUBMITTED,
        )
        .options(selectinload(Answer.themes))
    )


def themed_responses(consultation: Consultation) -> dict[str, list[int]]:
    """Each theme used on the consultation's submitted answers, alphabetically, with the responses carrying it."""
    rows = db.session.execute(
        select(AnswerTheme.label, Response.id)
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.consultation_id == consultation.id, Response.status == ResponseStatus.SUBMITTED)
        .distinct()
        .order_by(AnswerTheme.label, Response.id)
    ).all()
    themes: dict[str, list[int]] = {}
    for label, response_id in rows:
        themes.setdefault(label, []).append(response_id)
    return themes


def reviewed_by(entry: Entry) -> int | None:
    """The review whose findings a consultation on `entry` speaks to: a review itself, or a paper's review."""
    return entry.id if entry.kind == EntryKind.REVIEW else entry.review_id


def linkable_findings(viewer: Viewer, consultation: Consultation) -> list[Finding]:
    """The findings a change item may name: those of the consulted entry's review that `viewer` may read."""
    review_id = reviewed_by(consultation.entry)
    if review_id is None:
        return []
    query = select(Finding).where(Finding.review_id == review_id, visible_findings(viewer)).order_by(Finding.number)
    return list(db.session.scalars(query))


# --- Themes --------------------------------------------------------------------------------------


def _require_closed_analysis(consultation: Consultation, actor: User) -> None:
    require(actor, "consultation.manage", consultation.entry)
    if not is_closed(consultation):
        raise OutcomeError("Answers can be analysed only after the consultation closes.")


def tag_answer(answer: Answer, label: str, *, actor: User) -> AnswerTheme:
    """Tag a submitted free-text answer with a theme; tagging it again with the same theme (any case) changes nothing.

    A label matching a theme already used in the consultation, ignoring case, takes that
    theme's spelling, so "staffing" and "Staffing" stay one theme.

    Raises `PermissionDeniedError` unless `actor` manages the consultation, `OutcomeError`
    before the close, and `ThemeLabelError` for an empty or over-long label.
    """
    consultation = answer.response.consultation
    _require_closed_analysis(consultation, actor)
    tidy = _spelling_in_use(consultation, normalise_theme(label))
    for theme in answer.themes:
        if theme.label.casefold() == tidy.casefold():
            return theme
    theme = AnswerTheme(label=tidy, created_by_id=actor.id)
    answer.themes.append(theme)
    record_event(
        "consultation.theme-add", actor=actor, target=consultation, new=tidy, target_label=_answer_label(answer)
    )
    db.session.flush()
    return theme


def _spelling_in_use(consultation: Consultation, label: str) -> str:
    """The spelling of a theme already used in this consultation that matches `label` ignoring case, else `label`."""
    used = db.session.scalars(
        select(AnswerTheme.label)
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.consultation_id == consultation.id, func.lower(AnswerTheme.label) == label.lower())
        .order_by(AnswerTheme.id)
        .limit(1)
    ).first()
    return used or label


def untag_answer(answer: Answer, label: str, *, actor: User) -> bool:
    """Take a theme off an answer; returns False when the answer did not carry it.

    Raises `PermissionDeniedError` unless `actor` manages the consultation, `OutcomeError` before the close.
    """
    consultation = answer.response.consultation
    _require_closed_analysis(consultation, actor)
    wanted = " ".join(label.split()).casefold()
    theme = next((theme for theme in answer.themes if theme.label.casefold() == wanted), None)
    if theme is None:
        return False
    answer.themes.remove(theme)
    record_event(
        "consultation.theme-remove",
        actor=actor,
        target=consultation,
        old=theme.label,
        target_label=_answer_label(answer),
    )
    db.session.flush()
    return True


def _answer_label(answer: Answer) -> str:
    return f"answer {answer.id} of response {answer.response_id} to consultation {answer.response.consultation_id}"


# --- We asked, you said, we did ------------------------------------------------------------------


def _check_text(name: str, text: str, limit: int) -> str:
    if len(text) > limit:
        raise OutcomeError(f"{name} must be {limit:,} characters or fewer.")
    return text.strip()


def _check_links(consultation: Consultation, actor: User, changes: Sequence[ChangeDraft]) -> None:
    """Every linked response must be a submitted response of this consultation, every finding one of its review's."""
    response_ids = {response.id for response in submitted_responses(consultation)}
    finding_ids = {finding.id for finding in linkable_findings(viewer_for(actor), consultation)}
    for change in changes:
        if not set(change.response_ids) <= response_ids:
            raise OutcomeError("A change can only name submitted responses to this consultation.")
        if not set(change.finding_ids) <= finding_ids:
            raise OutcomeError("A change can only name findings of the consulted review.")


def _with_themes(consultation: Consultation, changes: Sequence[ChangeDraft]) -> list[ChangeDraft]:
    """Each change with its theme's responses added to those ticked; raises `OutcomeError` for a theme not in use."""
    if not any(change.theme for change in changes):
        return list(changes)
    themes = themed_responses(consultation)
    expanded = []
    for change in changes:
        if change.theme and change.theme not in themes:
            raise OutcomeError(f"No submitted answer is tagged “{change.theme}” now; choose another theme.")
        tagged = tuple(themes.get(change.theme, ())) if change.theme else ()
        ids = tuple(dict.fromkeys(change.response_ids + tagged))
        expanded.append(ChangeDraft(change.you_said, change.we_did, ids, change.finding_ids))
    return expanded


def save_outcome(
    consultation: Consultation, *, actor: User, we_asked: str, you_said: str, changes: Sequence[ChangeDraft]
) -> Consultation:
    """Write the outcome page: what was asked, what was heard, and the change items in order.

    Items without a "we did" are dropped; the stored items are updated in place, extra
    ones removed. An item's `theme` links every submitted response tagged with it at once.
    A published outcome can still be corrected (its readers are not told again). Raises
    `PermissionDeniedError` unless `actor` manages the consultation, and `OutcomeError`
    for over-long text, a theme not in use, or a link to a response or finding it may not name.
    """
    require(actor, "consultation.manage", consultation.entry)
    we_asked = _check_text("What we asked", we_asked, WE_ASKED_MAX)
    you_said = _check_text("What you said", you_said, WE_ASKED_MAX)
    kept = _with_themes(consultation, [change for change in changes if change.we_did.strip()])
    for change in kept:
        _check_text("A change's “you said”", change.you_said, CHANGE_TEXT_MAX)
        _check_text("A change's “we did”", change.we_did, CHANGE_TEXT_MAX)
    _check_links(consultation, actor, kept)
    consultation.we_asked, consultation.you_said = we_asked, you_said
    _store_changes(consultation, kept)
    record_event("consultation.outcome-save", actor=actor, target=consultation, new=f"{len(kept)} changes")
    db.session.flush()
    return consultation


def _store_changes(consultation: Consultation, drafts: Sequence[ChangeDraft]) -> None:
    stored = list(consultation.changes)
    responses = {
        r.id: r for r in db.session.scalars(select(Response).where(Response.consultation_id == consultation.id))
    }
    finding_ids = sorted({finding_id for draft in drafts for finding_id in draft.finding_ids})
    findings = {f.id: f for f in db.session.scalars(select(Finding).where(Finding.id.in_(finding_ids)))}
    for position, draft in enumerate(drafts):
        change = stored[position] if position < len(stored) else OutcomeChange()
        if position >= len(stored):
            consultation.changes.append(change)
        change.position = position
        change.you_said = draft.you_said.strip()
        change.we_did = draft.we_did.strip()
        change.responses = [responses[response_id] for response_id in dict.fromkeys(draft.response_ids)]
        change.findings = [findings[finding_id] for finding_id in dict.fromkeys(draft.finding_ids)]
    for extra in stored[len(drafts) :]:
        consultation.changes.remove(extra)


def publish_outcome(consultation: Consultation, *, actor: User) -> list[Notification]:
    """Publish the outcome page and tell each member who submitted a response; returns the notifications written.

    Raises `PermissionDeniedError` unless `actor` manages the consultation, and
    `OutcomeError` before the close, when it is already published, or when "We asked",
    "You said" or every change item is still missing.
    """
    require(actor, "consultation.manage", consultation.entry)
    if not is_closed(consultation):
        raise OutcomeError("The outcome can be published only after the consultation closes.")
    if consultation.outcome_published_at is not None:
        raise OutcomeError("The outcome is already published.")
    if not consultation.we_asked.strip() or not consultation.you_said.strip() or not consultation.changes:
        raise OutcomeError("Write what we asked, what you said and at least one change before publishing.")
    # Claimed with a conditional update, so two panel members publishing at once tell respondents once.
    now = utcnow()
    # Session.execute is typed to return a Result; an UPDATE's is a CursorResult, which counts rows.
    claimed = cast(
        CursorResult[Any],
        db.session.execute(
            update(Consultation)
            .where(Consultation.id == consultation.id, Consultation.outcome_published_at.is_(None))
            .values(outcome_published_at=now)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if not claimed:
        raise OutcomeError("The outcome is already published.")
    consultation.outcome_published_at = now
    record_event("consultation.outcome-publish", actor=actor, target=consultation)
    db.session.flush()
    return outcome_published(consultation, actor=actor, link=outcome_path(consultation))
