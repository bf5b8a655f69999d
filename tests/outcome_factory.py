"""Consultations, responses and answers made straight with the models, for the analysis and outcome tests.

A consultation here asks three questions: a five-point scale (1), a choice of three (2)
and free text (3). Responses copy an organisation's type and region as submission would.
"""

from __future__ import annotations

import datetime as dt

from kb.consultations.models import Answer, Consultation, Question, Response
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.extensions import db
from kb.panels.models import Finding
from kb.users.models import User

CHOICES = ["Keep the date", "Move the date", "Not sure"]


def make_consultation(entry: Entry, *, closed: bool = True, title: str = "Go-live readiness findings") -> Consultation:
    """A consultation on `entry` with three questions, closed a day ago (or closing in two days); committed."""
    now = utcnow()
    consultation = Consultation(
        entry_id=entry.id,
        title=title,
        introduction="Tell us whether the draft findings are right.",
        opens_at=now - dt.timedelta(days=10),
        closes_at=now - dt.timedelta(days=1) if closed else now + dt.timedelta(days=2),
    )
    consultation.questions = [
        Question(position=0, kind="scale", prompt="The findings describe what happened."),
        Question(position=1, kind="choice", prompt="What should happen to the launch date?", options=list(CHOICES)),
        Question(position=2, kind="text", prompt="What did the findings miss?"),
    ]
    db.session.add(consultation)
    db.session.commit()
    return consultation


def answer(
    consultation: Consultation,
    user: User | None,
    *,
    scale: str | None = None,
    choice: str | None = None,
    text: str = "",
    status: str = "submitted",
    organisation_type: str = "out-of-hours-provider",
    region: str = "South West",
    organisation_name: str = "Test out-of-hours provider",
) -> Response:
    """A response by `user` with the given answers (a question left None or empty is unanswered); committed."""
    scale_q, choice_q, text_q = consultation.questions
    response = Response(
        consultation_id=consultation.id,
        user_id=user.id if user is not None else None,
        status=status,
        organisation_name=organisation_name if status == "submitted" else "",
        organisation_type=organisation_type if status == "submitted" else "",
        region=region if status == "submitted" else "",
        submitted_at=utcnow() if status == "submitted" else None,
    )
    if scale:
        response.answers.append(Answer(question_id=scale_q.id, choice=scale))
    if choice:
        response.answers.append(Answer(question_id=choice_q.id, choice=choice))
    if text:
        response.answers.append(Answer(question_id=text_q.id, text=text))
    db.session.add(response)
    db.session.commit()
    return response


def text_answer(response: Response) -> Answer:
    """The free-text answer of a response made by `answer`."""
    text_q = response.consultation.questions[2]
    return next(item for item in response.answers if item.question_id == text_q.id)


def make_finding(
    review: Entry, *, number: int = 1, status: str = "draft", title: str = "Readiness was assumed"
) -> Finding:
    """A finding of `review`; committed."""
    finding = Finding(review_id=review.id, number=number, title=title, body="The panel found that.", status=status)
    db.session.add(finding)
    db.session.commit()
    return finding
