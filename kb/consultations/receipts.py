"""The receipt a member gets for a submitted response: in the app and by mail, with every answer they gave.

A receipt is written each time a submitted response is saved (the first submission and
every change until the close), so the member always holds a copy of what kb counts. It is
told through `kb.notifications.telling.tell` with no actor, so the member who submitted is
the one told. The receipt page (`receipt_path`) shows the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.consultations.models import SCALE_OPTIONS, Consultation, Question, Response
from kb.dates import london_time
from kb.notifications.models import Notification
from kb.notifications.telling import tell
from kb.permissions import can_view_consultation, viewer_for
from kb.states import NotificationKind, QuestionKind

if TYPE_CHECKING:
    from kb.users.models import User

NOT_ANSWERED = "(not answered)"


@dataclass(frozen=True)
class AnsweredQuestion:
    """One question of a consultation with the member's answer as they would read it."""

    number: int
    prompt: str
    answer: str


def receipt_path(consultation: Consultation) -> str:
    """The address of the signed-in member's receipt for their response to `consultation`."""
    return f"/consultations/{consultation.id}/receipt"


def _shown_answer(question: Question, stored: str | None) -> str:
    if not stored:
        return NOT_ANSWERED
    if question.kind == QuestionKind.SCALE:
        return SCALE_OPTIONS.get(stored, stored)
    return stored


def answered_questions(response: Response) -> list[AnsweredQuestion]:
    """Every question of the response's consultation, in order, with the answer given (or `NOT_ANSWERED`)."""
    given = {answer.question_id: answer.choice or answer.text for answer in response.answers}
    return [
        AnsweredQuestion(number, question.prompt, _shown_answer(question, given.get(question.id)))
        for number, question in enumerate(response.consultation.questions, start=1)
    ]


def receipt_paragraphs(response: Response) -> list[str]:
    """The body of the receipt mail: when it was received, each question and answer, and until when it can change."""
    consultation = response.consultation
    when = london_time(response.updated_at)
    paragraphs = [f"We received your response to “{consultation.title}” at {when} (London time). Your answers:"]
    paragraphs += [f"{item.number}. {item.prompt}\nYour answer: {item.answer}" for item in answered_questions(response)]
    paragraphs.append(
        f"You can change your answers until the consultation closes at {london_time(consultation.closes_at)} "
        "(London time); you will get a new receipt each time."
    )
    return paragraphs


def send_receipt(response: Response, *, submitter: User) -> list[Notification]:
    """Tell `submitter` that their submitted response was received, listing their answers; flushes.

    Returns the notification written (none when they may no longer read the consultation or
    their account is inactive).
    """
    consultation = response.consultation
    return tell(
        [submitter],
        kind=NotificationKind.RECEIPT,
        actor=None,
        message=f"Your response to “{consultation.title}” was received",
        link=receipt_path(consultation),
        entry=consultation.entry,
        paragraphs=receipt_paragraphs(response),
        may_hear=lambda person: can_view_consultation(viewer_for(person), consultation),
    )
